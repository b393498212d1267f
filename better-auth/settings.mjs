// Better Auth's options from the environment (the settings are listed in README.md beside this file).
// A missing or invalid setting is a SettingsError naming it: the process prints it and exits 2.
import { isIP } from "node:net";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";
import pg from "pg";

export class SettingsError extends Error {}

const STORES = ["postgres", "memory"];
const ALGORITHMS = ["EdDSA", "ES256", "RS256", "PS256"];
const ID_STRATEGIES = ["uuid", "serial"];
const MIN_SECRET_LENGTH = 32;

function oneOf(env, name, allowed, fallback) {
  const value = env[name] || fallback;
  if (value !== undefined && !allowed.includes(value)) {
    throw new SettingsError(`${name}=${value}: expected one of ${allowed.join(", ")}`);
  }
  return value;
}

function positiveInteger(env, name) {
  if (!env[name]) return undefined;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value <= 0) throw new SettingsError(`${name}=${env[name]}: expected a positive integer`);
  return value;
}

function publicBaseURL(env) {
  const value = env.BETTER_AUTH_URL;
  if (!value) throw new SettingsError("BETTER_AUTH_URL is not set: the public base URL (e.g. https://auth.example.com), its tokens' iss and aud");
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new SettingsError(`BETTER_AUTH_URL=${value}: not a URL`);
  }
  if (!["http:", "https:"].includes(url.protocol)) throw new SettingsError(`BETTER_AUTH_URL=${value}: expected http or https`);
  return value;
}

function secret(env) {
  const value = env.BETTER_AUTH_SECRET;
  if (!value) throw new SettingsError("BETTER_AUTH_SECRET is not set: at least 32 random characters (openssl rand -base64 32); it encrypts the signing keys");
  if (value.length < MIN_SECRET_LENGTH) throw new SettingsError(`BETTER_AUTH_SECRET is ${value.length} characters: at least ${MIN_SECRET_LENGTH}, please`);
  return value;
}

/** The store: a pg Pool on DATABASE_URL, or the memory adapter only when BETTER_AUTH_STORE=memory says so. */
export function storeFrom(env) {
  const store = oneOf(env, "BETTER_AUTH_STORE", STORES, "postgres");
  if (store === "memory") {
    return { kind: store, database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }) };
  }
  if (!env.DATABASE_URL) throw new SettingsError("DATABASE_URL is not set: Better Auth's PostgreSQL database (or BETTER_AUTH_STORE=memory for a throwaway store)");
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: positiveInteger(env, "DB_POOL_MAX_SIZE") ?? 10 });
  // An idle connection the server closed (a restart, a failover) is dropped from the pool; unhandled,
  // this event would end the process.
  pool.on("error", (error) => console.error(`better-auth: an idle database connection failed: ${error.message}`));
  return { kind: store, database: pool, pool };
}

function jwtPlugin(env) {
  const alg = oneOf(env, "BETTER_AUTH_JWT_ALG", ALGORITHMS, undefined);
  const rotationInterval = positiveInteger(env, "BETTER_AUTH_JWKS_ROTATION_SECONDS");
  const jwks = {};
  if (alg) jwks.keyPairConfig = { alg };
  if (rotationInterval) jwks.rotationInterval = rotationInterval;
  const claims = {};
  if (env.BETTER_AUTH_JWT_EXPIRATION) claims.expirationTime = env.BETTER_AUTH_JWT_EXPIRATION;
  return jwt({ jwks, jwt: claims });
}

function list(env, name) {
  return (env[name] || "").split(",").map((item) => item.trim()).filter(Boolean);
}

function isAddressOrRange(entry) {
  const [address, prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (!family || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/** Addresses (or CIDR ranges) of the proxies in front whose X-Forwarded-For is believed; none: none is.
 * Better Auth only warns about an invalid entry and ignores it: here it stops the start. */
export function trustedProxies(env) {
  const proxies = list(env, "BETTER_AUTH_TRUSTED_PROXIES");
  const invalid = proxies.filter((entry) => !isAddressOrRange(entry));
  if (invalid.length) throw new SettingsError(`BETTER_AUTH_TRUSTED_PROXIES: ${invalid.join(", ")}: expected IP addresses or CIDR ranges`);
  return proxies;
}

/** Every option serve and migrate share: the schema `migrate` creates is the one `serve` uses. */
export function authOptions(env, database) {
  const idStrategy = oneOf(env, "BETTER_AUTH_ID_STRATEGY", ID_STRATEGIES, undefined);
  return {
    baseURL: publicBaseURL(env),
    secret: secret(env),
    database,
    trustedOrigins: list(env, "BETTER_AUTH_TRUSTED_ORIGINS"),
    emailAndPassword: { enabled: true },
    plugins: [jwtPlugin(env)],
    telemetry: { enabled: false },
    advanced: {
      // Rate limits count per client address: the one server.mjs puts last in X-Forwarded-For.
      ipAddress: { ipAddressHeaders: ["x-forwarded-for"], trustedProxies: trustedProxies(env) },
      ...(idStrategy ? { database: { generateId: idStrategy } } : {}),
    },
  };
}

export function listenAddress(env) {
  const port = env.PORT ? Number(env.PORT) : 3000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SettingsError(`PORT=${env.PORT}: expected a port number`);
  return { host: env.HOST || "127.0.0.1", port };
}
