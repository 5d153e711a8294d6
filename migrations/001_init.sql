-- fived's permanent record (issue 14; docs/operations.md, "The archive in PostgreSQL").
-- Written only by the archiver (`fived archiver`), after each period's end: nothing here is ever
-- written before the period it belongs to has ended (docs/design.md rule 4). Every row is keyed
-- by its id and inserted with ON CONFLICT DO NOTHING: a row is archived exactly once.

-- One row per ended period of a room (room = fiveD_<duration>, on one timeline).
CREATE TABLE periods (
  timeline     text        NOT NULL,
  duration     integer     NOT NULL,
  period_id    text        NOT NULL,           -- 17 digits: game day YYYYMMDD + sequence
  room         text        NOT NULL,
  day          date        NOT NULL,           -- the game day (the period id's first 8 digits)
  starts_at    timestamptz NOT NULL,
  freeze_at    timestamptz NOT NULL,
  ends_at      timestamptz NOT NULL,
  status       text        NOT NULL,           -- settled | void | resulted | frozen | open (as the store had it) | mismatch (a stored result that did not verify: no digits)
  commitment   text,                           -- sha256(seed), published before the period opened
  seed         text,                           -- revealed at the end
  digits       smallint[],                     -- the five digits A..E; null for a void period
  sum          smallint,
  void         boolean     NOT NULL,
  void_reason  text,
  settled      boolean     NOT NULL,
  bet_count    integer     NOT NULL,
  total_stake  bigint      NOT NULL,           -- minor units, gross
  total_payout bigint      NOT NULL,           -- minor units: payouts, or refunds of a void period
  tracking     jsonb,                          -- who computed the result (instance, host, epoch, ...)
  archived_at  timestamptz NOT NULL DEFAULT now(),
  -- period id first: a day (its first 8 digits) is a range of the primary key
  PRIMARY KEY (period_id, duration, timeline)
);
CREATE INDEX periods_room ON periods (timeline, duration, period_id DESC);

-- One row per acknowledged bet, with its outcome.
CREATE TABLE bets (
  timeline      text        NOT NULL,
  duration      integer     NOT NULL,
  period_id     text        NOT NULL,
  seq           integer     NOT NULL,          -- betId = period_id:seq
  day           date        NOT NULL,
  user_id       text        NOT NULL,
  client_bet_id text        NOT NULL,
  kind          text        NOT NULL,          -- A..E | SUM
  pick          text        NOT NULL,          -- 0..9 | big | small | odd | even
  amount        bigint      NOT NULL,
  placed_at     timestamptz NOT NULL,
  state         text        NOT NULL,          -- won | lost | refunded (pending only for a period archived unsettled)
  payout        bigint      NOT NULL,
  -- period id first: a day (its first 8 digits) is a range of the primary key (no index of its own)
  PRIMARY KEY (period_id, duration, timeline, seq)
);
CREATE INDEX bets_user ON bets (user_id, placed_at DESC);

-- One row per ledger entry (every balance change: deposit, withdrawal, stake, payout, refund).
CREATE TABLE ledger (
  entry_id  text        PRIMARY KEY,           -- 16 digits, store-wide commit order
  user_id   text        NOT NULL,
  at        timestamptz NOT NULL,
  kind      text        NOT NULL,
  amount    bigint      NOT NULL,              -- signed minor units
  balance   bigint      NOT NULL,              -- the balance after
  ref       text        NOT NULL
);
CREATE INDEX ledger_user ON ledger (user_id, entry_id DESC);
CREATE INDEX ledger_at ON ledger (at);

-- Where the archiver is: per room the last period archived, and the last ledger entry. Updated in
-- the same transaction as the rows it covers, so a crash resumes exactly there.
CREATE TABLE archive_cursor (
  stream     text        PRIMARY KEY,          -- period:<timeline>:<duration> | ledger
  position   text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
