//! Serde (de)serializers for the f64 and f32 fields of a history, under the
//! [rule for non-finite values](crate::History): finite values as JSON numbers, NaN and
//! infinities as the strings `"NaN"`, `"inf"` and `"-inf"`. Use as
//! `#[serde(with = "json_float")]`, and `#[serde(default, with = "json_float::option")]` for an
//! `Option`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

/// f64 or f32. Whether a value is finite, NaN or which infinity is read from it as an f64
/// (`Into<f64>`, exact for both).
pub(crate) trait Float: Copy + fmt::Debug + FromStr + Into<f64> + 'static {
    /// `"f64"` or `"f32"`, for messages.
    const NAME: &'static str;
    fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error>;
    /// The value of a JSON number, `None` when it does not fit this type.
    fn from_f64(v: f64) -> Option<Self>;
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self)
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn serialize_finite<S: Serializer>(self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f32(self)
    }
    fn from_f64(v: f64) -> Option<Self> {
        // Rounded to the nearest f32; a finite number beyond f32's range is refused, not
        // turned into an infinity.
        let narrowed = v as f32;
        (narrowed.is_finite() || !v.is_finite()).then_some(narrowed)
    }
}

/// Whether `text` is one of Rust's spellings of an infinity (`inf`, `-Infinity`, ...).
pub(crate) fn names_infinity(text: &str) -> bool {
    let word = text.trim_start_matches(['+', '-']);
    word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity")
}

/// `text` in quotes for an error message, cut to 24 characters: a damaged file can hold a
/// 400-digit "number", which is no use in a message.
pub(crate) fn quote(text: &str) -> String {
    match text.char_indices().nth(24) {
        Some((end, _)) => format!("{:?}... ({} bytes)", &text[..end], text.len()),
        None => format!("{text:?}"),
    }
}

/// Serialize `v`: a number if finite, else `"NaN"`, `"inf"` or `"-inf"`.
pub(crate) fn serialize<T: Float, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    let x: f64 = (*v).into();
    if x.is_finite() {
        v.serialize_finite(s)
    } else if x.is_nan() {
        s.serialize_str("NaN")
    } else if x.is_sign_positive() {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

/// Deserialize a number, `"NaN"`, `"inf"`, `"-inf"` (or `null`, read as NaN: what older
/// versions wrote for it).
pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(FloatVisitor(std::marker::PhantomData))
}

struct FloatVisitor<T>(std::marker::PhantomData<T>);

impl<T: Float> FloatVisitor<T> {
    fn number<E: de::Error>(v: f64) -> Result<T, E> {
        T::from_f64(v).ok_or_else(|| {
            E::custom(format_args!(
                "{v:e} is beyond the range of an {} (write \"inf\" for an infinite value)",
                T::NAME
            ))
        })
    }
}

impl<'de, T: Float> Visitor<'de> for FloatVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, or \"NaN\", \"inf\" or \"-inf\"")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Self::number(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::number(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::number(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        // Only the names of NaN and infinity: a number belongs in a JSON number, and
        // "1e400" must not slip in as an infinity.
        let parsed = v.parse::<T>().ok().filter(|&p| {
            let p: f64 = p.into();
            p.is_nan() || (!p.is_finite() && names_infinity(v))
        });
        parsed.ok_or_else(|| {
            E::custom(format_args!(
                "expected a number, or \"NaN\", \"inf\" or \"-inf\", found the string {}",
                quote(v)
            ))
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::from_f64(f64::NAN).expect("NaN is a value of every float type"))
    }
}

/// The same rule for a list of numbers: NaN and infinities as the strings `"NaN"`, `"inf"`,
/// `"-inf"` (a diverged run's norms are kept, not turned into `null`).
pub(crate) mod list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Float;

    /// One number of a list, under the rule.
    #[derive(Serialize, Deserialize)]
    #[serde(transparent, bound = "T: Float")]
    pub(super) struct Number<T>(#[serde(with = "super")] pub(super) T);

    pub(crate) fn serialize<T: Float, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|&x| Number(x)))
    }

    pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        let numbers = Vec::<Number<T>>::deserialize(d)?;
        Ok(numbers.into_iter().map(|n| n.0).collect())
    }
}

/// The same rule for a list of lists of numbers.
pub(crate) mod lists {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Float;
    use super::list::Number;

    pub(crate) fn serialize<T: Float, S: Serializer>(
        v: &[Vec<T>],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            v.iter()
                .map(|row| row.iter().map(|&x| Number(x)).collect::<Vec<_>>()),
        )
    }

    pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Vec<T>>, D::Error> {
        let rows = Vec::<Vec<Number<T>>>::deserialize(d)?;
        Ok(rows
            .into_iter()
            .map(|row| row.into_iter().map(|n| n.0).collect())
            .collect())
    }
}

/// The same rule for `Option<f64>`: `null` (or an absent field, with `#[serde(default)]`)
/// is `None`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<T: Float, S: Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => super::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, T: Float, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        d.deserialize_option(OptionVisitor(std::marker::PhantomData))
    }

    struct OptionVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Float> Visitor<'de> for OptionVisitor<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null, a number, or \"NaN\", \"inf\" or \"-inf\"")
        }

        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}
