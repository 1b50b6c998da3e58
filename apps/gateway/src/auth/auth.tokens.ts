/** Injection tokens of the AuthModule. */
export const OPERATOR_AUTH = Symbol('OPERATOR_AUTH');
export const TOKEN_STORE = Symbol('TOKEN_STORE');
export const SESSIONS = Symbol('SESSIONS');
