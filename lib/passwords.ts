import { hash, verify } from '@node-rs/argon2';

/**
 * Argon2id with OWASP's minimum parameters (19 MiB, 2 passes): memory-hard, so a stolen hash table
 * is expensive to brute-force on GPUs. The library's default algorithm is Argon2id; the encoded
 * hash carries its parameters, so they can be raised later without invalidating old hashes.
 */
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/**
 * A real hash to verify against when the username is unknown, so that a failed login costs the same
 * time whether or not the user exists.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword('decoy password that matches no account');
  return decoyHash;
}
