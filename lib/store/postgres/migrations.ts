/**
 * The numbered migrations of the PostgreSQL schema (index 0 is migration 1), each a list of statements. The table,
 * column and function names are what the backends, the leadership, the budgets and the add claims code against.
 * Never change a migration that shipped: add the next one.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE flowmon_entries (
      id text PRIMARY KEY,
      version bigint NOT NULL,
      state text NOT NULL,
      expires_at bigint NOT NULL,
      simulated boolean NOT NULL,
      entry jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    // Every write of an entry takes the next value: versions only grow, also across a deletion and a new creation.
    'CREATE SEQUENCE flowmon_entries_version',
    `CREATE TABLE flowmon_history (
      seq bigserial PRIMARY KEY,
      id text NOT NULL UNIQUE,
      at bigint NOT NULL,
      origin text NOT NULL,
      record jsonb NOT NULL
    )`,
    'CREATE INDEX flowmon_history_at ON flowmon_history (at)',
    `CREATE TABLE flowmon_intake (
      id text PRIMARY KEY,
      node text NOT NULL,
      at bigint NOT NULL,
      owner text NOT NULL,
      event jsonb NOT NULL
    )`,
    'CREATE INDEX flowmon_intake_owner ON flowmon_intake (owner)',
    `CREATE TABLE flowmon_instances (
      id text PRIMARY KEY,
      started_at timestamptz NOT NULL DEFAULT now(),
      renewed_at timestamptz NOT NULL
    )`,
    `CREATE TABLE flowmon_leader (
      singleton int PRIMARY KEY CHECK (singleton = 1),
      term bigint NOT NULL,
      holder text,
      pid int,
      renewed_at timestamptz
    )`,
    'INSERT INTO flowmon_leader (singleton, term, holder, pid, renewed_at) VALUES (1, 0, NULL, NULL, NULL)',
    'CREATE TABLE flowmon_budget_starts (id bigserial PRIMARY KEY, budget text NOT NULL, at timestamptz NOT NULL)',
    'CREATE INDEX flowmon_budget_starts_budget_at ON flowmon_budget_starts (budget, at)',
    `CREATE TABLE flowmon_add_claims (
      id text PRIMARY KEY,
      instance text NOT NULL,
      until timestamptz NOT NULL
    )`,
    // A slot of a sliding-window budget shared by every instance. A row's `at` is when it stops counting, less the
    // window: a plain take's start; for a call the appliance counts when it ARRIVES (the LoadMaster), first the latest
    // time the call may still run, then (flowmon_budget_starts.at set by the caller) its real end. Answers the slot's
    // id, or minus the ms until a slot frees.
    `CREATE FUNCTION flowmon_take_call_slot(p_budget text, p_max int, p_window_ms int, p_call_ms int) RETURNS bigint
    LANGUAGE plpgsql AS $$
    DECLARE
      v_now timestamptz;
      v_window interval := make_interval(secs => p_window_ms / 1000.0);
      v_count int;
      v_oldest timestamptz;
      v_id bigint;
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtext('flowmon_budget:' || p_budget));
      v_now := clock_timestamp();
      DELETE FROM flowmon_budget_starts WHERE budget = p_budget AND at <= v_now - v_window;
      SELECT count(*), min(at) INTO v_count, v_oldest FROM flowmon_budget_starts WHERE budget = p_budget;
      IF v_count < p_max THEN
        INSERT INTO flowmon_budget_starts (budget, at)
          VALUES (p_budget, v_now + make_interval(secs => p_call_ms / 1000.0)) RETURNING id INTO v_id;
        RETURN v_id;
      END IF;
      RETURN -greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - v_now)) * 1000))::bigint;
    END
    $$`,
    // One take that counts from now: 0 when a slot was taken, else the ms to wait.
    `CREATE FUNCTION flowmon_take_slot(p_budget text, p_max int, p_window_ms int) RETURNS int
    LANGUAGE sql AS $$
      SELECT (CASE WHEN slot > 0 THEN 0 ELSE -slot END)::int FROM flowmon_take_call_slot(p_budget, p_max, p_window_ms, 0) AS slot
    $$`,
    // One appliance add per target across instances: 'active' (on the appliance), 'claimed' (ours to add) or 'busy'.
    `CREATE FUNCTION flowmon_claim_add(p_id text, p_instance text, p_claim_ms int) RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
      v_now timestamptz := clock_timestamp();
    BEGIN
      IF EXISTS (
        SELECT 1 FROM flowmon_entries
        WHERE id = p_id AND state = 'active' AND NOT simulated
          AND expires_at > floor(extract(epoch FROM v_now) * 1000)
      ) THEN
        RETURN 'active';
      END IF;
      INSERT INTO flowmon_add_claims AS claim (id, instance, until)
      VALUES (p_id, p_instance, v_now + make_interval(secs => p_claim_ms / 1000.0))
      ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, until = excluded.until
        WHERE claim.until < v_now OR claim.instance = p_instance;
      IF FOUND THEN
        RETURN 'claimed';
      END IF;
      RETURN 'busy';
    END
    $$`,
  ],
];
