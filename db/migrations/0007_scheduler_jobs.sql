CREATE TYPE "public"."job_execution_status" AS ENUM('running', 'completed', 'failed', 'timeout', 'exhausted');--> statement-breakpoint
CREATE TYPE "public"."job_status" AS ENUM('active', 'paused', 'completed', 'failed', 'deleted');--> statement-breakpoint
CREATE TABLE "scheduler_job_executions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"job_id" uuid NOT NULL,
	"job_name" text NOT NULL,
	"template_type" text NOT NULL,
	"status" "job_execution_status" DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"duration_seconds" numeric(12, 3),
	"result" jsonb,
	"error" text,
	"logs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"attempt" integer NOT NULL,
	"trigger" "task_trigger" NOT NULL,
	"triggered_by" text NOT NULL,
	"dry_run" boolean DEFAULT false NOT NULL,
	"execution_host" text,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scheduler_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"template_type" text NOT NULL,
	"parameters" jsonb NOT NULL,
	"schedule" jsonb,
	"recurrence_type" text,
	"recurrence_config" jsonb,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"start_at" timestamp with time zone,
	"end_at" timestamp with time zone,
	"timeout_seconds" integer NOT NULL,
	"retry_policy" jsonb NOT NULL,
	"overlap" text DEFAULT 'skip' NOT NULL,
	"notifications" jsonb NOT NULL,
	"status" "job_status" DEFAULT 'active' NOT NULL,
	"pause_note" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "scheduler_jobs_overlap_check" CHECK ("scheduler_jobs"."overlap" in ('skip', 'buffer_one', 'allow_all')),
	CONSTRAINT "scheduler_jobs_timeout_check" CHECK ("scheduler_jobs"."timeout_seconds" >= 1),
	CONSTRAINT "scheduler_jobs_version_check" CHECK ("scheduler_jobs"."version" >= 1)
);
--> statement-breakpoint
ALTER TABLE "backup_runs" ADD COLUMN "verify_mode" text;--> statement-breakpoint
ALTER TABLE "scheduler_job_executions" ADD CONSTRAINT "scheduler_job_executions_job_id_scheduler_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."scheduler_jobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "scheduler_job_executions_attempt_key" ON "scheduler_job_executions" USING btree ("workflow_id","run_id","attempt");--> statement-breakpoint
CREATE INDEX "scheduler_job_executions_job_idx" ON "scheduler_job_executions" USING btree ("job_id","started_at");--> statement-breakpoint
CREATE INDEX "scheduler_job_executions_started_idx" ON "scheduler_job_executions" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "scheduler_job_executions_status_idx" ON "scheduler_job_executions" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "scheduler_jobs_name_key" ON "scheduler_jobs" USING btree ("name") WHERE "scheduler_jobs"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "scheduler_jobs_creator_idx" ON "scheduler_jobs" USING btree ("created_by","status");--> statement-breakpoint
CREATE INDEX "scheduler_jobs_template_idx" ON "scheduler_jobs" USING btree ("template_type");