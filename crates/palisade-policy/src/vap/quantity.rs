//! Kubernetes resource quantities (`500m`, `1.5Gi`, `2e3`), exact: kept as
//! a count of nano-units in an `i128`, so `1Gi` equals `1024Mi` and
//! comparisons never round.

#![deny(clippy::indexing_slicing)]

/// A parsed quantity, in nano-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity(pub i128);

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses the Kubernetes quantity syntax: a signed decimal number and an
    /// optional binary (`Ki`…`Ei`), decimal (`n u m k M G T P E`) or
    /// exponent (`e3`, `E-2`) suffix.
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let bad = || format!("invalid quantity `{s}`");
        let t = s.trim();
        if t.is_empty() || t.len() > 64 {
            return Err(bad());
        }
        let (negative, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, t.get(1..).ok_or_else(bad)?),
            Some(b'+') => (false, t.get(1..).ok_or_else(bad)?),
            _ => (false, t),
        };
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(split);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(bad());
        }
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        // Digits as an integer and the power of ten that scales them.
        let mut digits: i128 = 0;
        for c in int_part.chars().chain(frac_part.chars()) {
            let d = i128::from(c.to_digit(10).ok_or_else(bad)?);
            digits = digits
                .checked_mul(10)
                .and_then(|x| x.checked_add(d))
                .ok_or_else(|| format!("quantity `{s}` is too large"))?;
        }
        let mut exp10: i32 = -i32::try_from(frac_part.len()).map_err(|_| bad())?;
        let mut factor: i128 = 1;
        match suffix {
            "" => {}
            "Ki" => factor = 1 << 10,
            "Mi" => factor = 1 << 20,
            "Gi" => factor = 1 << 30,
            "Ti" => factor = 1 << 40,
            "Pi" => factor = 1 << 50,
            "Ei" => factor = 1 << 60,
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            other => {
                let exp = other
                    .strip_prefix('e')
                    .or_else(|| other.strip_prefix('E'))
                    .ok_or_else(bad)?;
                let e: i32 = exp.parse().map_err(|_| bad())?;
                if !(-40..=40).contains(&e) {
                    return Err(format!("quantity `{s}` is out of range"));
                }
                exp10 += e;
            }
        }
        let too_large = || format!("quantity `{s}` is too large");
        let mut value = digits.checked_mul(factor).ok_or_else(too_large)?;
        let exp = exp10 + 9;
        if exp >= 0 {
            for _ in 0..exp {
                value = value.checked_mul(10).ok_or_else(too_large)?;
            }
        } else {
            for _ in 0..(-exp) {
                // Below a nano-unit: Kubernetes rounds up.
                let rem = value % 10;
                value /= 10;
                if rem != 0 {
                    value += 1;
                }
            }
        }
        Ok(Quantity(if negative { -value } else { value }))
    }

    /// The canonical text of the value: a plain decimal (`0.5`, `1073741824`).
    pub fn canonical(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let int = abs / NANO.unsigned_abs();
        let frac = abs % NANO.unsigned_abs();
        if frac == 0 {
            format!("{sign}{int}")
        } else {
            let f = format!("{frac:09}");
            format!("{sign}{int}.{}", f.trim_end_matches('0'))
        }
    }

    pub fn is_integer(self) -> bool {
        self.0 % NANO == 0
    }

    pub fn as_integer(self) -> Option<i64> {
        if !self.is_integer() {
            return None;
        }
        i64::try_from(self.0 / NANO).ok()
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / NANO as f64
    }

    pub fn sign(self) -> i64 {
        match self.0.signum() {
            1 => 1,
            -1 => -1,
            _ => 0,
        }
    }

    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(Quantity)
    }

    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_sub(other.0).map(Quantity)
    }

    pub fn from_int(i: i64) -> Quantity {
        Quantity(i128::from(i) * NANO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn parses_kubernetes_quantities() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("500m").canonical(), "0.5");
        assert_eq!(q("1.5Gi").canonical(), "1610612736");
        assert_eq!(q("2e3"), q("2k"));
        assert_eq!(q("-1").sign(), -1);
        assert_eq!(q("100").as_integer(), Some(100));
        assert_eq!(q("100m").as_integer(), None);
        assert!(q("1n") < q("1u"));
        assert_eq!(q("1E").canonical(), "1000000000000000000");
        for bad in ["", "abc", "1.2.3", "1Xi", "--1", "1e99", "."] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }
}
