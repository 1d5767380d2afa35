/**
 * The bare baseline of the api scenario, run as its own process (so it has a core's worth of event
 * loop, as the API has): Fastify and postgres.js, no auth, no schemas, no logging, answering the
 * same two reads as the API with the same rows and fields, each in one SQL statement (the page with
 * its count). What these two libraries can do with the data on this machine.
 *
 * Environment: DATABASE_URL, PORT. Prints `listening <port>` once it answers.
 */
import fastify from 'fastify';
import postgres from 'postgres';

const DOCUMENT_VIEW = `
  select d.id, d.document_number, d.version, d.title, d.description, d.status, u.username as author,
    coalesce((select array_agg(p.username order by p.username) from document_assignees a join users p on p.id = a.user_id
      where a.document_id = d.id and a.kind = 'review'), '{}') as reviewers,
    coalesce((select array_agg(p.username order by p.username) from document_assignees a join users p on p.id = a.user_id
      where a.document_id = d.id and a.kind = 'approval'), '{}') as approvers,
    d.effective_at, d.obsolete_at, d.obsolescence_reason, d.supersedes_id, d.workflow_id,
    coalesce((select json_agg(json_build_object('task_id', t.id, 'kind', t.kind, 'assignee', p.username,
        'due_at', t.due_at, 'round', t.round) order by t.due_at)
      from review_tasks t join users p on p.id = t.assignee_id where t.document_id = d.id and t.status = 'pending'),
      '[]') as open_tasks,
    d.created_at, d.updated_at
  from documents d join users u on u.id = d.author_id`;

async function main() {
  const sql = postgres(process.env.DATABASE_URL!, { max: 10, onnotice: () => undefined });
  const app = fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/documents/:id', async (request, reply) => {
    const [row] = await sql.unsafe(`${DOCUMENT_VIEW} where d.id = $1`, [request.params.id]);
    return row ?? reply.status(404).send({ error: 'not found' });
  });
  app.get<{ Querystring: { page?: string; page_size?: string } }>('/documents', async (request) => {
    const page = Number(request.query.page ?? 1);
    const pageSize = Number(request.query.page_size ?? 50);
    const [items, [total]] = await Promise.all([
      sql.unsafe(`${DOCUMENT_VIEW} order by d.created_at desc, d.id desc limit $1 offset $2`, [
        pageSize,
        (page - 1) * pageSize,
      ]),
      sql`select count(*)::int as n from documents`,
    ]);
    return { items, page, page_size: pageSize, total: total!.n };
  });
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write(`listening ${process.env.PORT}\n`);
  const stop = () => void app.close().then(() => sql.end({ timeout: 2 }));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`bare api failed: ${String(error)}\n`);
  process.exit(1);
});
