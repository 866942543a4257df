import { Type } from 'typebox';
import { Nullable, Strict, Timestamp, Uuid } from '../../http/schemas.js';
import { ROLES } from '../auth/roles.js';

export const RoleSchema = Type.Enum(ROLES);
export const TokenRoleSchema = Type.Enum(['admin', 'supervisor', 'agent', 'client_viewer'] as const);
export const Slug = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9][a-z0-9-]*$' });
export const Password = Type.String({ minLength: 10, maxLength: 256 });
export const PersonName = Type.String({ minLength: 1, maxLength: 200 });

export const CreateWorkspaceBody = Strict({ name: Type.String({ minLength: 1, maxLength: 200 }), slug: Slug, timeZone: Type.Optional(Type.String({ maxLength: 64 })) });
export const Workspace = Type.Object({ id: Uuid, name: Type.String(), slug: Type.String(), timeZone: Type.String(), role: RoleSchema, createdAt: Timestamp });
export const WorkspaceList = Type.Object({ items: Type.Array(Workspace) });

export const Member = Type.Object({
  id: Uuid,
  email: Type.Optional(Type.String({ description: "absent when a client viewer reads the list: agents' addresses are internal" })),
  name: Type.String(),
  role: RoleSchema,
  createdAt: Timestamp,
});
export const MemberList = Type.Object({ items: Type.Array(Member) });

export const CreateTokenBody = Strict(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Optional(TokenRoleSchema),
    currentPassword: Type.String({ minLength: 1, maxLength: 256, description: 'your password again: creating a token needs re-authentication' }),
  },
  { examples: [{ name: 'zapier', role: 'agent', currentPassword: 'your password' }] },
);
export const TokenInfo = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: TokenRoleSchema,
  prefix: Type.String(),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  revokedAt: Nullable(Timestamp),
});
export const CreatedToken = Type.Object({ ...TokenInfo.properties, token: Type.String({ description: 'shown once; only its hash is stored' }) });
export const TokenList = Type.Object({ items: Type.Array(TokenInfo) });
