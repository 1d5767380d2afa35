CREATE TYPE "public"."backup_run_status" AS ENUM('running', 'succeeded', 'failed');--> statement-breakpoint
CREATE TYPE "public"."backup_type" AS ENUM('full', 'export', 'archive');--> statement-breakpoint
CREATE TABLE "backup_configs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"backup_type" "backup_type" NOT NULL,
	"schedule_id" text,
	"keep_last" integer,
	"max_age_days" integer,
	"verify_mode" text DEFAULT 'checksums' NOT NULL,
	"destination" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "backup_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"config_id" uuid,
	"execution_id" uuid NOT NULL,
	"backup_type" "backup_type" NOT NULL,
	"status" "backup_run_status" DEFAULT 'running' NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"duration_seconds" numeric(12, 3),
	"size_bytes" bigint,
	"path" text,
	"sha256" text,
	"manifest" jsonb,
	"verification" jsonb,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "backup_runs" ADD CONSTRAINT "backup_runs_config_id_backup_configs_id_fk" FOREIGN KEY ("config_id") REFERENCES "public"."backup_configs"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "backup_configs_name_key" ON "backup_configs" USING btree ("name");--> statement-breakpoint
CREATE UNIQUE INDEX "backup_runs_execution_key" ON "backup_runs" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "backup_runs_started_idx" ON "backup_runs" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "backup_runs_status_idx" ON "backup_runs" USING btree ("status","finished_at");--> statement-breakpoint
INSERT INTO "backup_configs" ("name", "backup_type", "schedule_id", "keep_last", "max_age_days", "verify_mode") VALUES
  ('daily-full', 'full', 'backup-daily-full', 7, 30, 'checksums'),
  ('weekly-export', 'export', 'backup-weekly-export', 4, 90, 'restore'),
  ('monthly-archive', 'archive', 'backup-monthly-archive', 12, 400, 'checksums'),
  ('on-demand-full', 'full', NULL, 5, NULL, 'checksums')
ON CONFLICT ("name") DO NOTHING;
