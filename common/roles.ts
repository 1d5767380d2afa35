/** Who may act on what. `admin` is document control; `viewer` reads only. */
export const USER_ROLES = ['admin', 'author', 'reviewer', 'approver', 'viewer'] as const;

export type UserRole = (typeof USER_ROLES)[number];
