// Better Auth for the tasks-api: email and password sign-up, and the JWT plugin whose keys the API
// trusts through JWKS_URL. `node server.mjs` serves; `node server.mjs migrate` creates or completes its
// schema in DATABASE_URL and exits (safe to run twice, or from two places at once). README.md here
// lists the settings; the image (Dockerfile here) and compose.yaml's better-auth profile run both.
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { SettingsError, authOptions, listenAddress, storeFrom, trustedProxies } from "./settings.mjs";

// pg_advisory_lock's key: two migrate runs at once take turns instead of racing to CREATE TABLE.
const MIGRATION_LOCK = 7_014_201_451;
const SHUTDOWN_SECONDS = 10;

async function migrate(env) {
  const store = storeFrom(env);
  if (!store.pool) throw new SettingsError("migrate: BETTER_AUTH_STORE=memory has no schema to migrate");
  const options = authOptions(env, store.database);
  const lock = await store.pool.connect();
  try {
    await lock.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(options);
    const changes = [
      ...toBeCreated.map((table) => `created table ${table.table}`),
      ...toBeAdded.map((table) => `added ${Object.keys(table.fields).join(", ")} to ${table.table}`),
    ];
    await runMigrations();
    console.log(changes.length ? `better-auth migrate: ${changes.join("; ")}` : "better-auth migrate: the schema is up to date");
  } finally {
    await lock.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    lock.release();
    await store.pool.end();
  }
}

// Better Auth rate-limits sign-ups and sign-ins per client address, which it reads from X-Forwarded-For
// only (it never sees the socket): without it every client shares one bucket (3 sign-ins per 10 s for
// everyone), and a client's own header would pick its bucket. So the connection's peer is recorded as
// the last hop, as a proxy does; the client's header is kept only when a trusted proxy sent it.
function withClientAddress(handler, proxies) {
  return (request, response) => {
    const peer = request.socket.remoteAddress;
    const forwarded = request.headers["x-forwarded-for"];
    request.headers["x-forwarded-for"] = proxies.length && forwarded ? `${forwarded}, ${peer}` : peer;
    return handler(request, response);
  };
}

function serve(env) {
  const store = storeFrom(env);
  const auth = betterAuth(authOptions(env, store.database));
  const { host, port } = listenAddress(env);
  const server = createServer(withClientAddress(toNodeHandler(auth), trustedProxies(env)));
  server.listen(port, host, () => console.log(`better-auth listening on ${host}:${port} as ${auth.options.baseURL} (${store.kind} store)`));

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`better-auth: ${signal}, closing`);
    setTimeout(() => process.exit(1), SHUTDOWN_SECONDS * 1000).unref();
    server.close(async () => {
      await store.pool?.end();
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => stop(signal));
}

async function main(command) {
  if (command === "migrate") return migrate(process.env);
  if (command === undefined || command === "serve") return serve(process.env);
  throw new SettingsError(`unknown command ${command}: expected serve (the default) or migrate`);
}

main(process.argv[2]).catch((error) => {
  console.error(error instanceof SettingsError ? `better-auth: ${error.message}` : error);
  process.exit(error instanceof SettingsError ? 2 : 1);
});
