import type { NodeAPI } from 'node-red';
import { getHistory } from '../../lib/history';
import { getMetrics, MetricsRuntime } from '../../lib/metrics/runtime';
import { HISTORY_ROUTE, historyRoute, METRICS_ROUTE, metricsRoute, READ_PERMISSION } from './observability-api';

/** Starts the runtime's history recorder and metrics and registers their admin routes (read permission). */
function registerObservabilityApi(RED: NodeAPI): void {
  const runtime = RED as unknown as MetricsRuntime;
  const history = getHistory(runtime);
  const metrics = getMetrics(runtime);
  RED.httpAdmin.get(HISTORY_ROUTE, RED.auth.needsPermission(READ_PERMISSION), historyRoute(history.store) as never);
  RED.httpAdmin.get(METRICS_ROUTE, RED.auth.needsPermission(READ_PERMISSION), metricsRoute(metrics) as never);
}

const plugin = function (RED: NodeAPI) {
  RED.plugins.registerPlugin('flowmon-observability', {
    type: 'flowmon-response-observability',
    onadd() {
      registerObservabilityApi(RED);
    },
  });
};

export = Object.assign(plugin, { registerObservabilityApi });
