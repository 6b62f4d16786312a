// Package keys generates, derives, encodes and parses WireGuard keys exactly
// as wg(8) does.
//
// Keys are plain [wgtypes.Key] values. Parsing is stricter than
// [wgtypes.ParseKey]: a key must be exactly 44 characters of the standard
// base64 alphabet, end in '=', and be canonically encoded (the unused low bits
// of the 43rd character must be zero). This is the acceptance set of
// wireguard-tools' key_from_base64 and of base64.StdEncoding.Strict() with a
// 32-byte length check.
//
// Because keys are secrets, the codecs here never branch on, or index tables
// with, key characters or key bytes: every character is classified with
// arithmetic masks, the way wireguard-tools' encoding.c does. The standard
// library's encoding/base64 and encoding/hex use lookup tables and are
// therefore used only in tests. Temporary buffers holding secret material are
// wiped with [Wipe] before they are released.
//
// The package also implements the stdin handling of wg pubkey
// ([ReadPubkeyInput]), the key-file reading of wg set private-key and
// preshared-key ([ReadKeyFile]), and the world-accessible check of wg genkey
// and genpsk ([WorldAccessible]).
package keys
