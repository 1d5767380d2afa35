import { Type, type Static } from '@sinclair/typebox';
import { DOCUMENT_STATUSES } from '../../common';
import { MultiLineText, SingleLineText } from './common';
import { Username } from './users';

export const Status = Type.Unsafe<(typeof DOCUMENT_STATUSES)[number]>({ type: 'string', enum: [...DOCUMENT_STATUSES] });

const Instant = Type.String({ format: 'date-time', description: 'Exact ISO 8601 instant with offset' });
const CalendarDate = Type.String({ format: 'date', description: 'Calendar date: midnight in EDMS_TIMEZONE' });
const Comment = MultiLineText({ maxLength: 4000 });
const Title = SingleLineText({ maxLength: 500 });
const Description = MultiLineText({ maxLength: 10_000 });

export const DocumentIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const Document = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    document_number: Type.String(),
    version: Type.Integer(),
    title: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    status: Status,
    author: Type.String(),
    reviewers: Type.Array(Type.String()),
    approvers: Type.Array(Type.String()),
    effective_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    obsolete_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    obsolescence_reason: Type.Union([Type.String(), Type.Null()]),
    supersedes_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    workflow_id: Type.String(),
    open_tasks: Type.Array(
      Type.Object({
        task_id: Type.String({ format: 'uuid' }),
        kind: Type.String(),
        assignee: Type.String(),
        due_at: Type.String({ format: 'date-time' }),
        round: Type.Integer(),
      }),
    ),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Document' },
);

export const CreateDocumentBody = Type.Object(
  {
    title: Title,
    document_number: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$' })),
    description: Type.Optional(Description),
    reviewers: Type.Array(Username, { minItems: 1, uniqueItems: true, maxItems: 50 }),
    approvers: Type.Array(Username, { minItems: 1, uniqueItems: true, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type CreateDocumentBody = Static<typeof CreateDocumentBody>;

export const NewVersionBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    reviewers: Type.Optional(Type.Array(Username, { minItems: 1, uniqueItems: true, maxItems: 50 })),
    approvers: Type.Optional(Type.Array(Username, { minItems: 1, uniqueItems: true, maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type NewVersionBody = Static<typeof NewVersionBody>;

/** Past this page a list is better narrowed by its filters; the bound keeps offsets within bigint. */
const MAX_PAGE = 100_000;

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Status),
    q: Type.Optional(SingleLineText({ maxLength: 200, description: 'Words in the title or document number' })),
    page: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1, description: `1 to ${MAX_PAGE}` }),
    page_size: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);

export const DocumentPage = Type.Object({
  items: Type.Array(Type.Ref(Document)),
  page: Type.Integer(),
  page_size: Type.Integer(),
  total: Type.Integer(),
});

export const ReviewBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    comment: Type.Optional(Comment),
  },
  { additionalProperties: false },
);

export const ApproveBody = Type.Object(
  {
    effective_date: Type.Optional(CalendarDate),
    effective_at: Type.Optional(Instant),
    comment: Type.Optional(Comment),
  },
  { additionalProperties: false, description: 'Exactly one of effective_date and effective_at' },
);

export const RejectBody = Type.Object({ comment: Comment }, { additionalProperties: false });

export const EffectiveDateBody = Type.Object(
  { effective_date: Type.Optional(CalendarDate), effective_at: Type.Optional(Instant) },
  { additionalProperties: false, description: 'Exactly one of effective_date and effective_at' },
);

export const ObsoleteBody = Type.Object(
  { obsolescence_date: Type.Optional(CalendarDate), obsolete_at: Type.Optional(Instant), reason: Comment },
  { additionalProperties: false, description: 'Exactly one of obsolescence_date and obsolete_at' },
);

export const ReassignBody = Type.Object(
  { task_id: Type.String({ format: 'uuid' }), username: Username },
  { additionalProperties: false },
);

export const DocumentHistory = Type.Object({
  transitions: Type.Array(
    Type.Object({
      from: Type.Union([Status, Type.Null()]),
      to: Status,
      actor: Type.String(),
      comment: Type.Union([Type.String(), Type.Null()]),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
  audit: Type.Array(
    Type.Object({
      action: Type.String(),
      actor: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
});
