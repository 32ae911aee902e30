//! `serde_json::to_string` with a bound on nesting, for [`crate::Action::details`]: a `Serialize`
//! value (a `serde_json::Value` built in a loop, a recursive type of the caller's) can be nested
//! deeper than a thread's stack allows serde's recursive serialisation to go. Each compound is
//! refused before it is entered once it would be more than `max` levels deep, so the recursion
//! stops there; the depth rule ([`crate::rules::Limits`]) still checks the text produced.
//!
//! Written straight to text, not through a `serde_json::Value`: a struct's fields (and any
//! `Serialize` map's entries) keep the order the value gives them, whatever `serde_json`'s
//! features are. Through a `Value` they kept it only with serde_json's `preserve_order`, which
//! the crate turned on for every program that depended on it (its `Map` sorted otherwise).

use std::cell::Cell;

use serde::ser::{self, Serialize, Serializer};

/// Why [`to_text`] gave no text.
pub(crate) enum Refused {
    /// A compound would have been more than `max` levels deep (the outermost one is level 1).
    TooDeep,
    /// A float JSON cannot carry (NaN, ±Infinity): serde_json writes it as `null`, so the event
    /// would store another value than the one logged, silently (the JavaScript logger and the
    /// Worker refuse such a number too).
    NotFinite,
    /// The value's own `Serialize` failed (or produced what JSON cannot hold, e.g. a map key
    /// that is not a string).
    Failed(serde_json::Error),
}

/// Which of [`Refused`]'s own rules stopped the serialisation (read once it failed).
#[derive(Clone, Copy)]
enum Why {
    TooDeep,
    NotFinite,
}

/// `value` as compact JSON text (what `serde_json::to_string` writes), refused as
/// [`Refused::TooDeep`] as soon as a compound (an object or array, counted as serde_json writes
/// them: an enum variant with data is an object around it) would be nested more than `max`
/// levels deep.
pub(crate) fn to_text<T: Serialize + ?Sized>(value: &T, max: usize) -> Result<String, Refused> {
    let why = Cell::new(None);
    let mut out = Vec::with_capacity(128);
    let mut writer = serde_json::Serializer::new(&mut out);
    let capped = Capped { inner: &mut writer, around: 0, max, why: &why };
    value.serialize(capped).map_err(|e| match why.get() {
        Some(Why::TooDeep) => Refused::TooDeep,
        Some(Why::NotFinite) => Refused::NotFinite,
        None => Refused::Failed(e),
    })?;
    // serde_json writes UTF-8 only (its strings are `str`s, escaped or copied whole).
    String::from_utf8(out).map_err(|_| Refused::Failed(ser::Error::custom("not UTF-8")))
}

/// A serializer that hands everything to `inner`, counting the compounds around the value.
struct Capped<'a, S> {
    inner: S,
    /// How many compounds enclose the value being serialised.
    around: usize,
    max: usize,
    why: &'a Cell<Option<Why>>,
}

/// A member of a compound, serialised by whatever serializer the compound hands it to, capped.
struct Member<'a, T: ?Sized> {
    value: &'a T,
    around: usize,
    max: usize,
    why: &'a Cell<Option<Why>>,
}

impl<T: Serialize + ?Sized> Serialize for Member<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Capped { inner: s, around: self.around, max: self.max, why: self.why })
    }
}

/// A compound being written: its members are capped one level further in.
struct Compound<'a, C> {
    inner: C,
    around: usize,
    max: usize,
    why: &'a Cell<Option<Why>>,
}

impl<'a, S: Serializer> Capped<'a, S> {
    /// Enters `levels` compounds at once (an enum variant with data is an object around its
    /// data), or refuses them.
    fn enter<E: ser::Error>(&self, levels: usize) -> Result<usize, E> {
        let around = self.around + levels;
        if around > self.max {
            self.why.set(Some(Why::TooDeep));
            return Err(E::custom("details are nested too deep"));
        }
        Ok(around)
    }

    /// Refuses a float that is not finite ([`Refused::NotFinite`]).
    fn finite<E: ser::Error>(&self, finite: bool) -> Result<(), E> {
        if finite {
            return Ok(());
        }
        self.why.set(Some(Why::NotFinite));
        Err(E::custom("details contain NaN or Infinity"))
    }

    fn member<'v, T: ?Sized>(&self, value: &'v T, around: usize) -> Member<'v, T>
    where
        'a: 'v,
    {
        Member { value, around, max: self.max, why: self.why }
    }
}

impl<'a, S: Serializer> Serializer for Capped<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'a, S::SerializeSeq>;
    type SerializeTuple = Compound<'a, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'a, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'a, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'a, S::SerializeMap>;
    type SerializeStruct = Compound<'a, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'a, S::SerializeStructVariant>;

    fn serialize_bool(self, v: bool) -> Result<S::Ok, S::Error> {
        self.inner.serialize_bool(v)
    }
    fn serialize_i8(self, v: i8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i8(v)
    }
    fn serialize_i16(self, v: i16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i16(v)
    }
    fn serialize_i32(self, v: i32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i32(v)
    }
    fn serialize_i64(self, v: i64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i64(v)
    }
    fn serialize_i128(self, v: i128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_i128(v)
    }
    fn serialize_u8(self, v: u8) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u8(v)
    }
    fn serialize_u16(self, v: u16) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u16(v)
    }
    fn serialize_u32(self, v: u32) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u32(v)
    }
    fn serialize_u64(self, v: u64) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u64(v)
    }
    fn serialize_u128(self, v: u128) -> Result<S::Ok, S::Error> {
        self.inner.serialize_u128(v)
    }
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        self.finite(v.is_finite())?;
        self.inner.serialize_f32(v)
    }
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        self.finite(v.is_finite())?;
        self.inner.serialize_f64(v)
    }
    fn serialize_char(self, v: char) -> Result<S::Ok, S::Error> {
        self.inner.serialize_char(v)
    }
    fn serialize_str(self, v: &str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        // serde_json writes bytes as an array of numbers: one level.
        self.enter::<S::Error>(1)?;
        self.inner.serialize_bytes(v)
    }
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let m = self.member(value, self.around);
        self.inner.serialize_some(&m)
    }
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_struct(name)
    }
    fn serialize_unit_variant(self, name: &'static str, index: u32, variant: &'static str) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<S::Ok, S::Error> {
        let m = self.member(value, self.around);
        self.inner.serialize_newtype_struct(name, &m)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let around = self.enter::<S::Error>(1)?;
        let m = self.member(value, around);
        self.inner.serialize_newtype_variant(name, index, variant, &m)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let around = self.enter::<S::Error>(1)?;
        let (max, why) = (self.max, self.why);
        let c = self.inner.serialize_seq(len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let around = self.enter::<S::Error>(1)?;
        let (max, why) = (self.max, self.why);
        let c = self.inner.serialize_tuple(len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, S::Error> {
        let around = self.enter::<S::Error>(1)?;
        let (max, why) = (self.max, self.why);
        let c = self.inner.serialize_tuple_struct(name, len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let around = self.enter::<S::Error>(2)?;
        let (max, why) = (self.max, self.why);
        let c = self.inner.serialize_tuple_variant(name, index, variant, len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let around = self.enter::<S::Error>(1)?;
        let (max, why) = (self.max, self.why);
        let c = self.inner.serialize_map(len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, S::Error> {
        // serde_json's own scalars are written as a struct of one field: a `Number` when a
        // dependent turns on its `arbitrary_precision`, a `RawValue` (`raw_value`). No level of
        // JSON, so not counted (a number at the deepest level allowed was refused); their field
        // is, so a struct of one's own by that name still cannot nest without bound.
        let own_scalar = name.starts_with("$serde_json::private::");
        self.enter::<S::Error>(usize::from(!own_scalar))?;
        let (around, max, why) = (self.around + 1, self.max, self.why);
        let c = self.inner.serialize_struct(name, len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let around = self.enter::<S::Error>(2)?;
        let (max, why) = (self.max, self.why);
        let c = self.inner.serialize_struct_variant(name, index, variant, len)?;
        Ok(Compound { inner: c, around, max, why })
    }
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// The compounds whose members are values (no keys): each member capped one level further in.
macro_rules! capped_members {
    ($($trait:ident :: $method:ident),*) => {$(
        impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                let m = Member { value, around: self.around, max: self.max, why: self.why };
                self.inner.$method(&m)
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}
capped_members!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl<C: ser::SerializeMap> ser::SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        let m = Member { value: key, around: self.around, max: self.max, why: self.why };
        self.inner.serialize_key(&m)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let m = Member { value, around: self.around, max: self.max, why: self.why };
        self.inner.serialize_value(&m)
    }
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

/// The compounds whose members are named fields: each field's value capped one level further in.
macro_rules! capped_fields {
    ($($trait:ident),*) => {$(
        impl<C: ser::$trait> ser::$trait for Compound<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), C::Error> {
                let m = Member { value, around: self.around, max: self.max, why: self.why };
                self.inner.serialize_field(key, &m)
            }
            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }
            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}
capped_fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Serialize)]
    enum E {
        New(Vec<u8>),
        Tuple(u8, Vec<u8>),
        Struct { v: Vec<u8> },
        Unit,
    }

    /// What it accepts is exactly `serde_json::to_string`'s text, and it refuses a value exactly
    /// when that value is more than `max` levels deep (`rules::depth_of`), enum variants with data
    /// counted as the objects serde_json writes around them.
    #[test]
    fn refuses_exactly_what_is_deeper_than_max() {
        let nested = |n: usize| (0..n).fold(json!(1), |acc, _| json!([acc]));
        let samples = vec![
            json!({}),
            json!({"a": nested(15)}),
            json!({"a": nested(16)}),
            json!({"a": {"b": nested(14)}}),
            serde_json::to_value(E::New(vec![1])).unwrap(),
            serde_json::to_value(vec![E::Tuple(1, vec![2]), E::Struct { v: vec![3] }, E::Unit]).unwrap(),
        ];
        for v in &samples {
            let depth = crate::rules::depth_of(v);
            for max in [1, 2, 3, 16] {
                match to_text(v, max) {
                    Ok(got) => assert!(depth <= max && got == serde_json::to_string(v).unwrap(), "{v} at max {max}"),
                    Err(Refused::TooDeep) => assert!(depth > max, "{v} refused at max {max}, depth {depth}"),
                    Err(Refused::NotFinite) => panic!("{v}: no float here is other than finite"),
                    Err(Refused::Failed(e)) => panic!("{e}"),
                }
            }
        }
        // Straight from the Serialize types, not through a Value.
        let depth = |t: Option<String>| crate::rules::depth_of(&serde_json::from_str(&t.expect("accepted")).unwrap());
        assert_eq!(depth(to_text(&E::New(vec![1]), 2).ok()), 2);
        assert_eq!(depth(to_text(&[E::Tuple(1, vec![2])], 4).ok()), 4);
        assert_eq!(depth(to_text(&E::Struct { v: vec![3] }, 3).ok()), 3);
        assert_eq!(depth(to_text(&E::Unit, 0).ok()), 0);
        assert!(matches!(to_text(&E::New(vec![1]), 1), Err(Refused::TooDeep)));
        assert!(matches!(to_text(&[E::Tuple(1, vec![2])], 3), Err(Refused::TooDeep)));
        assert!(matches!(to_text(&E::Struct { v: vec![3] }, 2), Err(Refused::TooDeep)));
        // A struct named as serde_json's own scalars (a `Number` with `arbitrary_precision`) is
        // not counted, but what it holds is: nested into itself, it is still refused, not a stack
        // overflow. (`cargo test --lib --features serde_json/arbitrary_precision serdepth`: the
        // samples above, numbers at the deepest level, were refused one level early.)
        struct Fake(usize);
        impl Serialize for Fake {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ser::SerializeStruct;
                let mut st = s.serialize_struct("$serde_json::private::Number", 1)?;
                match self.0 {
                    0 => st.serialize_field("$serde_json::private::Number", "1")?,
                    n => st.serialize_field("$serde_json::private::Number", &Fake(n - 1))?,
                }
                st.end()
            }
        }
        // (With `arbitrary_precision` serde_json refuses such a struct itself: `Failed`.)
        assert!(to_text(&Fake(100_000), 16).is_err());
        // (Its last level is left to the depth rule, which checks the text produced.)
        assert!(to_text(&Fake(17), 16).is_err());
        assert!(!matches!(to_text(&Fake(15), 16), Err(Refused::TooDeep)));
        // A failure of the value's own is not a depth refusal.
        let bad_key: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        assert!(matches!(to_text(&bad_key, 16), Err(Refused::Failed(_))));
    }

    /// A struct's fields and a map's entries are written in the order the value gives them,
    /// whatever serde_json's features: through a `serde_json::Value` (`to_value`, as before) they
    /// were sorted unless serde_json's `preserve_order` was on, which the crate then turned on
    /// for every program depending on it.
    #[test]
    fn fields_keep_the_order_the_value_gives() {
        #[derive(serde::Serialize)]
        struct Changed {
            zeta: u8,
            alpha: Vec<(u8, u8)>,
            middle: std::collections::BTreeMap<&'static str, f32>,
        }
        let v = Changed { zeta: 1, alpha: vec![(2, 3)], middle: [("y", 0.1), ("b", 2.5)].into() };
        let Ok(text) = to_text(&v, 16) else { panic!("refused") };
        assert_eq!(text, r#"{"zeta":1,"alpha":[[2,3]],"middle":{"b":2.5,"y":0.1}}"#);
        assert_eq!(text, serde_json::to_string(&v).unwrap());
    }
}
