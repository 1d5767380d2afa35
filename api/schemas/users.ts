import { Type, type Static } from '@sinclair/typebox';
import { USER_ROLES } from '../../common';
import { Nullable, SingleLineText } from './common';
import { Email } from '../../lib/json-schema';

export const Username = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$',
  description: 'Lower-case letters, digits, dot, underscore and dash; 3 to 64 characters',
  examples: ['j.smith'],
});

export const Password = SingleLineText({
  minLength: 12,
  maxLength: 256,
  description: 'At least 12 characters, not all blank, no control characters',
});

export const Role = Type.Unsafe<(typeof USER_ROLES)[number]>({ type: 'string', enum: [...USER_ROLES] });

const DisplayName = SingleLineText({ maxLength: 200, description: 'The name shown to people' });

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
    email: Type.String(),
    display_name: Type.Union([Type.String(), Type.Null()]),
    role: Role,
    manager: Type.Union([Type.String(), Type.Null()], { description: 'Username of the manager escalations go to' }),
    active: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    last_login_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'User' },
);

export const CreateUserBody = Type.Object(
  {
    username: Username,
    password: Password,
    role: Role,
    email: Email,
    display_name: Type.Optional(DisplayName),
    manager: Type.Optional(Username),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Object(
  {
    role: Type.Optional(Role),
    manager: Type.Optional(Nullable(Username, 'no manager (escalations go to the admins)')),
    active: Type.Optional(Type.Boolean()),
    email: Type.Optional(Email),
    display_name: Type.Optional(Nullable(DisplayName, 'no display name')),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) });

export const LoginBody = Type.Object(
  { username: SingleLineText({ maxLength: 64 }), password: SingleLineText({ maxLength: 256 }) },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the token expires' }),
});

/** The answer of acts that end sessions (logout, revoke-sessions): 204 and no body. */
export const NoContent = Type.Null({ description: 'Done; no body' });
