import { Type, type Static } from 'typebox';
import { Email, Strict, Timestamp, Uuid } from '../../http/schemas.js';
import { Password, PersonName, RoleSchema } from '../workspaces/workspaces.schemas.js';

export const CreateInvitationBody = Strict({ email: Email, role: RoleSchema }, { examples: [{ email: 'new.agent@example.com', role: 'agent' }] });

/** POST /users: "add a user" is an invitation; a name may be sent but the person chooses their own. */
export const AddUserBody = Strict(
  { email: Email, role: RoleSchema, name: Type.Optional(PersonName) },
  { examples: [{ email: 'new.agent@example.com', role: 'agent' }] },
);
export type CreateInvitationInput = Static<typeof CreateInvitationBody>;

export const Invitation = Type.Object({
  id: Uuid, email: Type.String(), role: RoleSchema, invitedBy: Type.Union([Uuid, Type.Null()]), createdAt: Timestamp, expiresAt: Timestamp,
});
export const CreatedInvitation = Type.Object({
  ...Invitation.properties,
  token: Type.String({ description: 'shown once; only its hash is stored' }),
  acceptUrl: Type.String({ description: 'the link to send; the token rides in the fragment, which browsers never send on (no Referer leak)' }),
});
export const InvitationList = Type.Object({ items: Type.Array(Invitation) });

export const AcceptInvitationBody = Strict({
  token: Type.String({ minLength: 10, maxLength: 200 }),
  name: Type.Optional(PersonName),
  password: Type.Optional(Password),
}, { examples: [{ token: 'rpi_…', name: 'Noor New', password: 'four unrelated words together' }, { token: 'rpi_…' }] });
export type AcceptInvitationInput = Static<typeof AcceptInvitationBody>;

export const AcceptedInvitation = Type.Object({
  workspace: Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() }),
  email: Type.String({ description: 'the invited email: sign in with it' }),
  role: RoleSchema,
  next: Type.Union([Type.Literal('sign_in'), Type.Literal('open')], {
    description: 'sign_in: sign in with the invited email and your password to open the workspace; open: you joined while signed in',
  }),
});
