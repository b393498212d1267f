// The frontend scenario, a frontend's code using the installed package: tests/tooling/clients/test_typescript_client.py
// runs it in a fresh npm project against a live service (other tests run it here, on the package's source):
// create, list with filters, update, toggle, delete, and 401/403/404/412/422 read as typed problems.
// Env: TASKS_API_URL, TASKS_API_USER, TASKS_API_TOKEN (a JWT whose sub is TASKS_API_USER) and
// TASKS_API_OTHER_USER (someone else). Prints one JSON line per step; exits 1 on the first surprise.
import {
  createTasksClient,
  etagOf,
  idempotencyKey,
  ifMatch,
  isValidationProblem,
  newIdempotencyKey,
  type Problem,
  type TagCount,
  type Task,
  type ValidationProblem,
  wasReplayed,
} from "tasks-api-client";
import { env, type Expect, expecting, step } from "./steps.js";

const baseUrl = env("TASKS_API_URL");
const user_id = env("TASKS_API_USER");
const otherUser = env("TASKS_API_OTHER_USER");
const token = env("TASKS_API_TOKEN");

const api = createTasksClient(baseUrl, () => token);
const anonymous = createTasksClient(baseUrl, () => undefined);

const expect: Expect = expecting("scenario");

function expectProblem(
  name: string,
  response: Response,
  error: Problem | ValidationProblem | undefined,
  status: number,
): Problem | ValidationProblem {
  expect(error !== undefined, `${name}: expected a ${status} problem, got ${response.status}`);
  expect(response.status === status && error.status === status, `${name}: ${response.status} ${JSON.stringify(error)}`);
  expect(response.headers.get("content-type")?.startsWith("application/problem+json"), `${name}: not problem+json`);
  const errors = isValidationProblem(error) ? error.errors : undefined;
  step(name, response.status, { title: error.title, detail: error.detail, request_id: error.request_id, errors });
  return error;
}

function expectTask(name: string, response: Response, task: Task | undefined, status: number): Task {
  expect(task !== undefined && response.status === status, `${name}: expected ${status}, got ${response.status}`);
  return task;
}

// Create, retried with the same Idempotency-Key as after a timeout: one task, answered twice.
const key = newIdempotencyKey();
const body = { title: "Buy milk", description: "Two litres, semi-skimmed." };
const created = await api.POST("/api/{user_id}/tasks", {
  params: { path: { user_id }, header: idempotencyKey(key) },
  body,
});
const milk = expectTask("create", created.response, created.data, 201);
const etag = etagOf(created.response);
expect(etag && created.response.headers.get("Location")?.endsWith(`/tasks/${milk.id}`), "create: ETag and Location");
step("create", 201, { id: milk.id, etag });

const retried = await api.POST("/api/{user_id}/tasks", {
  params: { path: { user_id }, header: idempotencyKey(key) },
  body,
});
expect(expectTask("create retry", retried.response, retried.data, 201).id === milk.id, "retry: a second task");
expect(wasReplayed(retried.response) && !wasReplayed(created.response), "retry: Idempotent-Replayed");
step("create retry", 201, { id: retried.data?.id, replayed: true });

const dentist = await api.POST("/api/{user_id}/tasks", {
  params: { path: { user_id } },
  body: { title: "Call the dentist" },
});
const second = expectTask("create second", dentist.response, dentist.data, 201);

// Update with If-Match: the ETag from the create; a stale ETag afterwards is 412 and changes nothing.
const updated = await api.PATCH("/api/{user_id}/tasks/{task_id}", {
  params: { path: { user_id, task_id: milk.id }, header: ifMatch(etag) },
  body: { title: "Buy oat milk", description: null },
});
const oat = expectTask("update", updated.response, updated.data, 200);
expect(oat.title === "Buy oat milk" && oat.description === null, "update: fields");
const newEtag = etagOf(updated.response);
expect(newEtag && newEtag !== etag, "update: a new ETag");
step("update", 200, { title: oat.title, etag: newEtag });

const stale = await api.PATCH("/api/{user_id}/tasks/{task_id}", {
  params: { path: { user_id, task_id: milk.id }, header: ifMatch(etag) },
  body: { title: "Lost update" },
});
expectProblem("update with a stale ETag", stale.response, stale.error, 412);

// Toggle: pending becomes completed.
const toggled = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
  params: { path: { user_id, task_id: milk.id }, header: ifMatch(newEtag) },
});
expect(expectTask("toggle", toggled.response, toggled.data, 200).completed, "toggle: completed");
step("toggle", 200, { completed: toggled.data?.completed });

// List with filters.
const completed = await api.GET("/api/{user_id}/tasks", {
  params: { path: { user_id }, query: { status: "completed", sort: "title", order: "asc", limit: 10 } },
});
expect(completed.data, `list completed: ${completed.response.status}`);
expect(completed.data.total === 1 && completed.data.items[0]?.id === milk.id, "list completed: items");
const pending = await api.GET("/api/{user_id}/tasks", {
  params: { path: { user_id }, query: { status: "pending", limit: 10, offset: 0 } },
});
expect(pending.data?.total === 1 && pending.data.items[0]?.id === second.id, "list pending: items");
step("list", 200, { completed: completed.data.total, pending: pending.data.total });

// Priority, due date and tags; then the tag filter (repeated, any case), search, overdue and tag counts.
const vet = await api.POST("/api/{user_id}/tasks", {
  params: { path: { user_id } },
  body: { title: "Book the vet", priority: "high", due_at: "2020-01-01T09:00:00+01:00", tags: ["Pets", "urgent"] },
});
const booked = expectTask("create tagged", vet.response, vet.data, 201);
expect(booked.tags.join() === "pets,urgent" && booked.due_at === "2020-01-01T08:00:00Z", "create tagged: fields");
const found = await api.GET("/api/{user_id}/tasks", {
  params: {
    path: { user_id },
    query: { tag: ["PETS", "urgent"], q: "VET", overdue: true, sort: "priority", order: "desc" },
  },
});
expect(found.data?.total === 1 && found.data.items[0]?.id === booked.id, "tags and search: items");
// The tag list a page at a time (one tag per page here): follow next_cursor until it is null.
const tags: TagCount[] = [];
let pages = 0;
let cursor: string | null = null;
do {
  const query: { limit: number; cursor?: string } = cursor === null ? { limit: 1 } : { limit: 1, cursor };
  const page = await api.GET("/api/{user_id}/tags", { params: { path: { user_id }, query } });
  expect(page.data?.limit === 1 && page.data.items.length === 1, `tag page ${pages}: ${page.response.status}`);
  tags.push(...page.data.items);
  cursor = page.data.next_cursor;
  pages++;
} while (cursor !== null);
expect(tags.map((tag) => `${tag.name}:${tag.task_count}`).join() === "pets:1,urgent:1", "tag counts");
step("tags and search", 200, { found: found.data.total, tags: tags.length, pages });

// Delete; the task is gone afterwards.
const deleted = await api.DELETE("/api/{user_id}/tasks/{task_id}", {
  params: { path: { user_id, task_id: milk.id } },
});
expect(deleted.response.status === 204 && deleted.error === undefined, `delete: ${deleted.response.status}`);
step("delete", 204);

// The errors a frontend handles, each read as a typed problem document.
const gone = await api.GET("/api/{user_id}/tasks/{task_id}", { params: { path: { user_id, task_id: milk.id } } });
expectProblem("get deleted task", gone.response, gone.error, 404);

const noToken = await anonymous.GET("/api/{user_id}/tasks", { params: { path: { user_id } } });
expectProblem("list without a token", noToken.response, noToken.error, 401);
expect(noToken.response.headers.get("WWW-Authenticate")?.startsWith("Bearer"), "401: WWW-Authenticate");

const foreign = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id: otherUser } } });
expectProblem("list another user's tasks", foreign.response, foreign.error, 403);

const invalid = await api.POST("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { title: "" } });
const problem: Problem | ValidationProblem = expectProblem("create with an empty title", invalid.response, invalid.error, 422);
expect(isValidationProblem(problem) && problem.errors.some((e) => e.pointer === "/title"), "422: errors[].pointer");

const tooMany = await api.GET("/api/{user_id}/tasks", { params: { path: { user_id }, query: { limit: 500 } } });
const limitProblem = expectProblem("list with limit 500", tooMany.response, tooMany.error, 422);
expect(isValidationProblem(limitProblem) && limitProblem.errors.some((e) => e.parameter === "limit"), "422: limit");

step("done", 0);
