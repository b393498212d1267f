// What the scenarios share: their settings from the environment, one JSON line per step, and a check
// that stops the script at the first surprise with the script's name.

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function step(name: string, status: number, detail: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ step: name, status, ...detail }));
}

export type Expect = (condition: unknown, message: string) => asserts condition;

export function expecting(script: string): Expect {
  return (condition, message) => {
    if (!condition) throw new Error(`${script}: ${message}`);
  };
}
