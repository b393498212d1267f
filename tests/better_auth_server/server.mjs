// Better Auth as an app runs it: the memory adapter, email and password, and the JWT plugin, served on
// 127.0.0.1 by better-auth/node. tests/support/better_auth.py starts it; it prints "listening" when ready.
//
// Environment (every setting but the port is optional; unset means Better Auth's default):
//   BA_PORT              the port to listen on
//   BA_BASE_URL          Better Auth's baseURL (default http://127.0.0.1:BA_PORT); its tokens' iss and aud
//   BA_ALG               jwks.keyPairConfig.alg: ES256 or RS256; unset: the plugin's default (EdDSA, Ed25519)
//   BA_ROTATION_SECONDS  jwks.rotationInterval: a key signs tokens this long, then a new one is made
//   BA_TOKEN_EXPIRY      jwt.expirationTime (e.g. "5s"); unset: 15 minutes
//   BA_ID                advanced.database.generateId: "uuid" or "serial"; unset: 32 random [A-Za-z0-9]
import { createServer } from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins";

const env = process.env;
const port = Number(env.BA_PORT);
const baseURL = env.BA_BASE_URL || `http://127.0.0.1:${port}`;

const jwks = {};
if (env.BA_ALG) jwks.keyPairConfig = { alg: env.BA_ALG };
if (env.BA_ROTATION_SECONDS) jwks.rotationInterval = Number(env.BA_ROTATION_SECONDS);
const jwtOptions = {};
if (env.BA_TOKEN_EXPIRY) jwtOptions.expirationTime = env.BA_TOKEN_EXPIRY;
const plugin = Object.keys(jwks).length || Object.keys(jwtOptions).length ? jwt({ jwks, jwt: jwtOptions }) : jwt();

const auth = betterAuth({
  baseURL,
  secret: env.BETTER_AUTH_SECRET,
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  plugins: [plugin],
  telemetry: { enabled: false },
  advanced: env.BA_ID ? { database: { generateId: env.BA_ID } } : {},
});

const server = createServer(toNodeHandler(auth));
server.listen(port, "127.0.0.1", () => console.log(`listening ${baseURL}`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
