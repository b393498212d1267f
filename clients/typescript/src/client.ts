// A typed Tasks API client: openapi-fetch over the types openapi-typescript generates from the spec.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.gen.ts";

export type Task = components["schemas"]["Task"];
export type TagCount = components["schemas"]["TagCount"];
export type Problem = components["schemas"]["Problem"];
export type ValidationProblem = components["schemas"]["ValidationProblem"];

/** A client for one user; `getToken` is asked for a fresh bearer token (a JWT) before every call. */
export function createTasksClient(baseUrl: string, getToken: () => string | undefined | Promise<string | undefined>) {
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

/** Whether a problem document lists invalid inputs (400 and 422 do). */
export function isValidationProblem(problem: Problem | ValidationProblem): problem is ValidationProblem {
  return Array.isArray((problem as ValidationProblem).errors);
}
