CREATE TYPE "public"."health_status" AS ENUM('HEALTHY', 'UNHEALTHY', 'CRITICAL');--> statement-breakpoint
CREATE TYPE "public"."task_execution_status" AS ENUM('running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."task_trigger" AS ENUM('schedule', 'manual', 'cli');--> statement-breakpoint
CREATE TABLE "system_health_checks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" "health_status" NOT NULL,
	"checks" jsonb NOT NULL,
	"execution_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_executions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"task_name" text NOT NULL,
	"schedule_id" text,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"trigger" "task_trigger" NOT NULL,
	"triggered_by" text NOT NULL,
	"dry_run" boolean DEFAULT false NOT NULL,
	"status" "task_execution_status" DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_seconds" numeric(12, 3),
	"result" jsonb,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "system_health_checks" ADD CONSTRAINT "system_health_checks_execution_id_task_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."task_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "system_health_checks_execution_key" ON "system_health_checks" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "system_health_checks_at_idx" ON "system_health_checks" USING btree ("checked_at");--> statement-breakpoint
CREATE UNIQUE INDEX "task_executions_run_key" ON "task_executions" USING btree ("workflow_id","run_id");--> statement-breakpoint
CREATE INDEX "task_executions_task_idx" ON "task_executions" USING btree ("task_name","started_at");--> statement-breakpoint
CREATE INDEX "task_executions_started_idx" ON "task_executions" USING btree ("started_at");