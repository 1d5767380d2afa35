ALTER TYPE "public"."job_execution_status" ADD VALUE 'skipped';--> statement-breakpoint
CREATE TABLE "scheduler_job_run_slots" (
	"job_id" uuid PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text,
	"claimed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"waiting_workflow_id" text,
	"waiting_run_id" text
);
--> statement-breakpoint
ALTER TABLE "scheduler_job_run_slots" ADD CONSTRAINT "scheduler_job_run_slots_job_id_scheduler_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."scheduler_jobs"("id") ON DELETE no action ON UPDATE no action;