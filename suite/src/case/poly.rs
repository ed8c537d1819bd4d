//! Deserializing values that YAML lets a case author write in several shapes.
//!
//! `status: 200`, `status: [200, 206]` and `status: 4xx` are one field. serde's untagged
//! enums would report "data did not match any variant"; this visitor instead hands each
//! shape to the type and keeps serde_norway's mark, so every error names the exact line.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, SeqAccess, Unexpected, Visitor};

/// A type deserialized from whichever YAML shape the author used.
pub(crate) trait Poly: Sized {
    /// What the field accepts, for error messages ("a status such as 200, [200, 206] or 4xx").
    const EXPECTING: &'static str;

    fn from_str<E: de::Error>(v: &str) -> Result<Self, E> {
        Err(E::invalid_type(
            Unexpected::Str(v),
            &Expecting(Self::EXPECTING),
        ))
    }
    fn from_u64<E: de::Error>(v: u64) -> Result<Self, E> {
        Err(E::invalid_type(
            Unexpected::Unsigned(v),
            &Expecting(Self::EXPECTING),
        ))
    }
    fn from_bool<E: de::Error>(v: bool) -> Result<Self, E> {
        Err(E::invalid_type(
            Unexpected::Bool(v),
            &Expecting(Self::EXPECTING),
        ))
    }
    fn from_unit<E: de::Error>() -> Result<Self, E> {
        Err(E::invalid_type(
            Unexpected::Unit,
            &Expecting(Self::EXPECTING),
        ))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(_seq: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(
            Unexpected::Seq,
            &Expecting(Self::EXPECTING),
        ))
    }
    fn from_map<'de, A: MapAccess<'de>>(_map: A) -> Result<Self, A::Error> {
        Err(de::Error::invalid_type(
            Unexpected::Map,
            &Expecting(Self::EXPECTING),
        ))
    }
}

pub(crate) struct Expecting(pub &'static str);

impl de::Expected for Expecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

pub(crate) struct PolyVisitor<T>(pub PhantomData<T>);

impl<'de, T: Poly> Visitor<'de> for PolyVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        T::from_str(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::from_u64(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match u64::try_from(v) {
            Ok(u) => T::from_u64(u),
            Err(_) => Err(E::invalid_type(Unexpected::Signed(v), &self)),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        T::from_str(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        T::from_bool(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        T::from_unit()
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        T::from_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

/// Implements `Deserialize` for a [`Poly`] type.
macro_rules! poly_deserialize {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any($crate::case::poly::PolyVisitor::<$t>(std::marker::PhantomData))
            }
        }
    )*};
}
pub(crate) use poly_deserialize;

/// Deserializes `R` from the rest of a mapping, then converts it; the conversion's error
/// is raised inside the mapping, so it carries the mapping's line.
pub(crate) fn map_then<'de, A, R, T>(
    map: A,
    convert: impl FnOnce(R) -> Result<T, String>,
) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    R: serde::Deserialize<'de>,
{
    let raw = R::deserialize(de::value::MapAccessDeserializer::new(map))?;
    convert(raw).map_err(de::Error::custom)
}

/// Deserializes `R` from a sequence, then converts it (see [`map_then`]).
pub(crate) fn seq_then<'de, A, R, T>(
    seq: A,
    convert: impl FnOnce(R) -> Result<T, String>,
) -> Result<T, A::Error>
where
    A: SeqAccess<'de>,
    R: serde::Deserialize<'de>,
{
    let raw = R::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
    convert(raw).map_err(de::Error::custom)
}
