// tasks-api-client: a typed client for the Tasks API, built from the contract (openapi/tasks.yaml)
// by `make clients`; its version is the contract's info.version.
export { createTasksClient, type TasksClient } from "./client.js";
export { etagOf, idempotencyKey, ifMatch, newIdempotencyKey, wasReplayed } from "./headers.js";
export { isValidationProblem, type Problem, type QuotaProblem, type ValidationProblem } from "./problems.js";
export type { components, operations, paths } from "./schema.gen.js";

import type { components } from "./schema.gen.js";

export type Task = components["schemas"]["Task"];
export type TaskCreate = components["schemas"]["TaskCreate"];
export type TaskUpdate = components["schemas"]["TaskUpdate"];
export type TaskReplace = components["schemas"]["TaskReplace"];
export type TaskPage = components["schemas"]["TaskPage"];
export type TagList = components["schemas"]["TagList"];
export type TagCount = components["schemas"]["TagCount"];
