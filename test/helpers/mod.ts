/**
 * Test helpers: a private Redis, temporary repositories, the compiled binary.
 *
 * @module
 */
export * from "./redis_server.ts";
export * from "./temp_repo.ts";
export * from "./ays_binary.ts";
export * from "./until.ts";
export * from "./backend_repo.ts";
export * from "./netns.ts";
export * from "./sse_client.ts";
export * from "./sshd.ts";
export * from "./manual_timers.ts";
