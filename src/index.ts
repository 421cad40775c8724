import { createApp } from "./app";
import { purgeExpiredSessions } from "./lifecycle/retention";

const app = createApp();

/** The HTTP pipeline is app.ts; the Cron Trigger of wrangler.toml runs the retention purge. */
export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await purgeExpiredSessions(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
