// A typed Tasks API client: openapi-fetch over the types openapi-typescript generates from the spec.
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { paths } from "./schema.gen.js";

export type TasksClient = Client<paths>;

/** A client for one user; `getToken` is asked for a fresh bearer token (a JWT) before every call. */
export function createTasksClient(
  baseUrl: string,
  getToken: () => string | undefined | Promise<string | undefined>,
): TasksClient {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    async onRequest({ request }) {
      const token = await getToken();
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}
