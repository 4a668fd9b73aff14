-- Programs: a creator's sequence of steps (text, a passage, a question with quick replies) that each
-- enrolled contact receives on their own clock, and the answers they give.
CREATE TABLE public.programs (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  bot_id     uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  name       text NOT NULL,
  -- what `/start <slug>` and `/program <slug>` name
  slug       text NOT NULL,
  -- [{afterDays?, afterMinutes?, text?, passage?, question?: {text, options}}]; read when each step is sent
  steps      jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bot_id, slug)
);

CREATE TABLE public.program_enrollments (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  program_id      uuid NOT NULL REFERENCES public.programs (id) ON DELETE CASCADE,
  bot_id          uuid NOT NULL REFERENCES public.bots (id) ON DELETE CASCADE,
  contact_id      uuid NOT NULL REFERENCES public.contacts (id) ON DELETE CASCADE,
  conversation_id uuid NOT NULL REFERENCES public.conversations (id) ON DELETE CASCADE,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'left', 'completed')),
  -- the step to be sent next (its send is `program:<id>:<next_step>`)
  next_step       integer NOT NULL DEFAULT 0,
  enrolled_at     timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (program_id, contact_id)
);
CREATE INDEX program_enrollments_contact_idx ON public.program_enrollments (contact_id, updated_at DESC);

CREATE TABLE public.program_answers (
  enrollment_id uuid NOT NULL REFERENCES public.program_enrollments (id) ON DELETE CASCADE,
  step_index    integer NOT NULL,
  option_index  integer NOT NULL,
  answer        text NOT NULL,
  answered_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (enrollment_id, step_index)
);
