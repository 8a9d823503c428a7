-- The registers other workflows read through the engine's register view (docs/design.md,
-- "The register view"), and the indexes its lookups and fan-outs use.

-- Board determinations of fair market value (FMP §4(a)(ii); RD Plan ¶6(A)): each with the day
-- it takes effect, the resolution that made it and the method. The one in force on a day is
-- the latest effective on or before it. Append-only: a new determination supersedes an old one.
CREATE TABLE valuations (
    company_id      text NOT NULL,
    effective_on    date NOT NULL,
    price_per_share numeric NOT NULL CHECK (price_per_share > 0),
    method          text NOT NULL
                    CHECK (method IN ('closing_price', 'mean_of_bid_and_ask', 'board_good_faith')),
    resolution      text NOT NULL CHECK (resolution <> ''),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    recorded_by     text,
    PRIMARY KEY (company_id, effective_on)  -- "in force on D": one descending index probe
);
CREATE TRIGGER valuations_append_only BEFORE UPDATE OR DELETE ON valuations
    FOR EACH ROW EXECUTE FUNCTION append_only_refusal();

-- A company's plans: when each was adopted by the Board and approved by the shareholders
-- (RD Plan ¶5: options are granted within ten years from the earlier).
CREATE TABLE plans (
    company_id               text NOT NULL,
    plan                     text NOT NULL,
    board_adopted_on         date,
    shareholders_approved_on date,
    recorded_at              timestamptz NOT NULL DEFAULT now(),
    recorded_by              text,
    PRIMARY KEY (company_id, plan)
);
CREATE TRIGGER plans_append_only BEFORE UPDATE OR DELETE ON plans
    FOR EACH ROW EXECUTE FUNCTION append_only_refusal();

-- The grants of a plan (its shares committed, RD Plan ¶4).
CREATE INDEX workflows_grants_by_plan ON workflows (company_id, (data->>'plan'))
    WHERE workflow_type = 'grant';
-- The workflows of a grant (its termination, its exercises), open or not; and fan-out to
-- "every open workflow of grant G".
CREATE INDEX workflows_by_grant ON workflows (company_id, (data->>'grant'), workflow_type);
-- An optionee's grants and terminations ("grants by company and optionee"), and fan-out to
-- "every open workflow of optionee O".
CREATE INDEX workflows_by_optionee ON workflows (company_id, (data->>'optionee'), workflow_type);
-- Fan-out to "every open workflow of company C for holder H" uses workflows_company_holder.
