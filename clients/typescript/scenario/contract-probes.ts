// Calls the contract forbids: each must be a type error, else `tsc --noEmit` fails on the unused
// expect-error directive. Proves the generated types guard the calls, not only that the scenario
// compiles. Type-checked only, never run. Not caught by the types: unknown body fields (openapi-fetch's
// generic request type escapes TypeScript's excess property check); the service answers them 422.
import { createTasksClient, type Task } from "tasks-api-client";

const api = createTasksClient("http://127.0.0.1:8000", () => "token");
const user_id = "user_2f8a";

export async function probes(task: Task): Promise<void> {
  // @ts-expect-error title is required on create
  await api.POST("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { description: "no title" } });
  // @ts-expect-error status is all, pending or completed
  await api.GET("/api/{user_id}/tasks", { params: { path: { user_id }, query: { status: "done" } } });
  // @ts-expect-error the path needs user_id
  await api.GET("/api/{user_id}/tasks", { params: { path: {} } });
  // @ts-expect-error task_id is an integer
  await api.DELETE("/api/{user_id}/tasks/{task_id}", { params: { path: { user_id, task_id: "42" } } });
  // @ts-expect-error there is no PUT on the collection
  await api.PUT("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { title: "x" } });
  // @ts-expect-error title may not be null on update (only description may)
  await api.PATCH("/api/{user_id}/tasks/{task_id}", { params: { path: { user_id, task_id: 1 } }, body: { title: null } });
  // @ts-expect-error a task has no assignee
  console.log(task.assignee);
  // @ts-expect-error priority is low, medium or high
  await api.PATCH("/api/{user_id}/tasks/{task_id}", { params: { path: { user_id, task_id: 1 } }, body: { priority: "urgent" } });
  // @ts-expect-error tags are a list of strings
  await api.POST("/api/{user_id}/tasks", { params: { path: { user_id } }, body: { title: "x", tags: "home" } });
}
