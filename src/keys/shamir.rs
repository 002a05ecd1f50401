//! Shamir secret sharing over GF(2^8), as sops splits a data key between key groups.
//!
//! Each secret byte is the constant term of a random polynomial of degree `threshold - 1`;
//! share `i` (0-based) is the polynomial evaluated at `x = i + 1`, laid out as the secret's
//! length of y bytes followed by the x byte. The field uses the AES polynomial
//! x^8 + x^4 + x^3 + x + 1. Arithmetic is branch-free on secret data.

use zeroize::Zeroizing;

/// Multiplies in GF(2^8) without data-dependent branches or table lookups.
fn mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// The multiplicative inverse (a^254); 0 maps to 0.
fn inverse(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exp = 254u8;
    while exp > 0 {
        if exp & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    result
}

/// Splits `secret` into `parts` shares, any `threshold` of which rebuild it.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Zeroizing<Vec<u8>>>, String> {
    if threshold < 2 {
        return Err("the Shamir threshold must be at least 2".into());
    }
    if threshold > parts {
        return Err(format!(
            "the Shamir threshold ({threshold}) is larger than the number of key groups ({parts})"
        ));
    }
    if parts > 255 {
        return Err("at most 255 key groups can share a data key".into());
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|i| {
            let mut share = Zeroizing::new(vec![0u8; secret.len() + 1]);
            share[secret.len()] = (i + 1) as u8;
            share
        })
        .collect();
    let mut coefficients = Zeroizing::new(vec![0u8; threshold - 1]);
    for (byte_index, &byte) in secret.iter().enumerate() {
        getrandom::fill(&mut coefficients).map_err(|e| format!("no randomness from the OS: {e}"))?;
        for share in shares.iter_mut() {
            let x = share[secret.len()];
            // Horner's rule: ((c_{t-1} x + c_{t-2}) x + …) x + secret byte.
            let mut y = 0u8;
            for &c in coefficients.iter().rev() {
                y = mul(y, x) ^ c;
            }
            share[byte_index] = mul(y, x) ^ byte;
        }
    }
    Ok(shares)
}

/// Rebuilds the secret from shares (Lagrange interpolation at x = 0 over all of them).
pub fn combine(shares: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, String> {
    if shares.len() < 2 {
        return Err("at least two shares are needed".into());
    }
    let len = shares[0].len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        return Err("the shares have different lengths".into());
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    for (i, x) in xs.iter().enumerate() {
        if xs[..i].contains(x) {
            return Err("two shares have the same x coordinate".into());
        }
    }
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (i, share) in shares.iter().enumerate() {
        // Lagrange basis polynomial for share i evaluated at 0: Π x_j / (x_j - x_i).
        let mut basis = 1u8;
        for (j, &xj) in xs.iter().enumerate() {
            if i != j {
                basis = mul(basis, mul(xj, inverse(xj ^ xs[i])));
            }
        }
        for (byte, &y) in secret.iter_mut().zip(share.iter()) {
            *byte ^= mul(y, basis);
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arithmetic_matches_the_aes_field() {
        assert_eq!(mul(0x57, 0x83), 0xc1); // FIPS-197 §4.2 example
        for a in 1..=255u8 {
            assert_eq!(mul(a, inverse(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_threshold_subset_rebuilds_the_secret() {
        let secret: Vec<u8> = (0..32).collect();
        let shares = split(&secret, 3, 2).unwrap();
        assert!(shares.iter().all(|s| s.len() == 33));
        assert_eq!(shares.iter().map(|s| s[32]).collect::<Vec<_>>(), [1, 2, 3]);
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            assert_eq!(
                combine(&[&shares[a], &shares[b]]).unwrap().as_slice(),
                secret.as_slice()
            );
        }
        assert_eq!(
            combine(&[&shares[0], &shares[1], &shares[2]]).unwrap().as_slice(),
            secret.as_slice()
        );
    }

    #[test]
    fn below_threshold_does_not_reveal_the_secret() {
        let secret = [0x42u8; 32];
        let shares = split(&secret, 3, 3).unwrap();
        assert_ne!(
            combine(&[&shares[0], &shares[1]]).unwrap().as_slice(),
            secret.as_slice()
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(split(&[1], 2, 1).is_err());
        assert!(split(&[1], 2, 3).is_err());
        assert!(combine(&[&[1, 1]]).is_err());
        assert!(combine(&[&[1, 1], &[2, 1]]).is_err());
    }
}
