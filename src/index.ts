import { createApp } from "./app";
import { purgeExpiredSessions } from "./lifecycle/retention";
import { foldStatsBacklog, statsFoldCron } from "./lifecycle/stats-fold";

const app = createApp();

/**
 * The HTTP pipeline is app.ts; the Cron Triggers of wrangler.toml run the retention purge (hourly)
 * and the statistics' fold (every minute).
 */
export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    if (controller.cron === statsFoldCron) await foldStatsBacklog(env);
    else await purgeExpiredSessions(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<Env>;
