// The read steps of a frontend's first screens, with the installed package: the first page of tasks, the
// first task of it opened, the tag list page by page, and the problems an anonymous or invalid read gets.
// Only what the contract promises is checked, not what the data is, so that it runs against the live
// service and against `tasks-api mock` (the spec's examples) alike: tests/api/test_mock.py and
// tests/tooling/clients/test_typescript_client.py run it.
// Env: TASKS_API_URL, TASKS_API_USER, TASKS_API_TOKEN (a JWT whose sub is TASKS_API_USER). Prints one JSON
// line per step; exits 1 on the first surprise.
import { createTasksClient, etagOf, isValidationProblem, type TagCount } from "tasks-api-client";
import { env, type Expect, expecting, step } from "./steps.js";

const baseUrl = env("TASKS_API_URL");
const user_id = env("TASKS_API_USER");
const token = env("TASKS_API_TOKEN");

const api = createTasksClient(baseUrl, () => token);
const anonymous = createTasksClient(baseUrl, () => undefined);

const expect: Expect = expecting("reads");

// The first page, as a list screen asks for it: by due date, the soonest first.
const listed = await api.GET("/api/{user_id}/tasks", {
  params: { path: { user_id }, query: { sort: "due", order: "asc", limit: 20 } },
});
expect(listed.data, `list: ${listed.response.status}`);
expect(etagOf(listed.response), "list: an ETag");
const first = listed.data.items[0];
step("list", listed.response.status, { total: listed.data.total, first: first?.id ?? null });

// The first task opened, as a detail screen does.
if (first !== undefined) {
  const opened = await api.GET("/api/{user_id}/tasks/{task_id}", { params: { path: { user_id, task_id: first.id } } });
  expect(opened.data && etagOf(opened.response), `get: ${opened.response.status}`);
  step("get", opened.response.status, { id: opened.data.id, title: opened.data.title });
}

// The tag list, a page at a time until next_cursor is null.
const tags: TagCount[] = [];
let pages = 0;
let cursor: string | null = null;
do {
  const query: { limit: number; cursor?: string } = cursor === null ? { limit: 100 } : { limit: 100, cursor };
  const page = await api.GET("/api/{user_id}/tags", { params: { path: { user_id }, query } });
  expect(page.data, `tags page ${pages}: ${page.response.status}`);
  tags.push(...page.data.items);
  cursor = page.data.next_cursor;
  pages++;
} while (cursor !== null);
step("tags", 200, { tags: tags.map((tag) => `${tag.name}:${tag.task_count}`), pages });

// What a read gets without a token, and with a parameter the contract refuses.
const noToken = await anonymous.GET("/api/{user_id}/tasks", { params: { path: { user_id } } });
expect(noToken.error?.status === 401, `list without a token: ${noToken.response.status}`);
expect(noToken.response.headers.get("WWW-Authenticate")?.startsWith("Bearer"), "401: WWW-Authenticate");
step("list without a token", noToken.response.status, { request_id: noToken.error.request_id });

const tooMany = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id }, query: { limit: 500 } } });
const limitProblem = tooMany.error;
expect(
  limitProblem !== undefined &&
    isValidationProblem(limitProblem) &&
    limitProblem.errors.some((error) => error.parameter === "limit"),
  `list with limit 500: ${tooMany.response.status}`,
);
step("list with limit 500", tooMany.response.status, { request_id: limitProblem.request_id });

step("done", 0);
