CREATE TABLE "timed_event_lateness" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event" text NOT NULL,
	"document_id" uuid NOT NULL,
	"task_id" uuid,
	"due_at" timestamp with time zone NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lateness_ms" integer NOT NULL,
	"sla_seconds" double precision NOT NULL,
	"breached" boolean NOT NULL,
	"idempotency_key" text NOT NULL,
	CONSTRAINT "timed_event_lateness_idempotency_key_unique" UNIQUE("idempotency_key"),
	CONSTRAINT "timed_event_lateness_event_check" CHECK ("timed_event_lateness"."event" in ('effective', 'obsolete', 'reminder', 'escalation'))
);
--> statement-breakpoint
CREATE INDEX "timed_event_lateness_occurred_idx" ON "timed_event_lateness" USING btree ("occurred_at");