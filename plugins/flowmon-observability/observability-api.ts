/**
 * The admin routes of the observability plugin, as plain handlers (testable without the editor): the decision
 * history as JSON or CSV, and the Prometheus metrics. Both need `flowmon-response.read`; neither answer holds a
 * credential or a value from the environment (records and metrics carry names, addresses and events only).
 */
import type { HistoryStore } from '../../lib/history';
import { parseHistoryQuery, toCsv } from '../../lib/history/query';
import type { FlowmonMetrics } from '../../lib/metrics/metrics';

export const HISTORY_ROUTE = '/flowmon-response/history';
export const METRICS_ROUTE = '/flowmon-response/metrics';
export const READ_PERMISSION = 'flowmon-response.read';

export interface ApiRequest {
  query: Record<string, unknown>;
}

export interface ApiResponse {
  status(code: number): ApiResponse;
  set(field: string, value: string): ApiResponse;
  json(body: unknown): unknown;
  send(body: string): unknown;
}

/**
 * GET history: `since`, `until` (ISO 8601 or epoch ms), `target`, `action` (comma-separated), `limit` (1 to 10,000,
 * default 1,000), `format` json (default) or csv. Newest first. 400 with `error` for any parameter out of bounds.
 */
export function historyRoute(history: HistoryStore, now: () => number = Date.now) {
  return async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    try {
      // On PostgreSQL the history arrives asynchronously at start: answer from all of it, not from what came so far.
      await history.ready;
      const query = parseHistoryQuery(req.query ?? {});
      if ('error' in query) {
        res.status(400).json({ error: query.error });
        return;
      }
      const page = history.query(query);
      res.set('Cache-Control', 'no-store');
      if (query.format === 'csv') {
        const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-');
        res.set('Content-Type', 'text/csv; charset=utf-8');
        res.set('Content-Disposition', `attachment; filename="flowmon-history-${stamp}.csv"`);
        res.status(200).send(toCsv(page.records));
        return;
      }
      res.status(200).json({ now: now(), matched: page.matched, truncated: page.matched > page.records.length, records: page.records });
    } catch {
      res.status(500).json({ error: 'the history could not be read; see the Node-RED log' });
    }
  };
}

/** GET metrics: the Prometheus text exposition format. */
export function metricsRoute(metrics: FlowmonMetrics) {
  return async (_req: ApiRequest, res: ApiResponse): Promise<void> => {
    try {
      const text = await metrics.text();
      res.set('Content-Type', metrics.contentType);
      res.set('Cache-Control', 'no-store');
      res.status(200).send(text);
    } catch {
      res.status(500).json({ error: 'the metrics could not be collected; see the Node-RED log' });
    }
  };
}
