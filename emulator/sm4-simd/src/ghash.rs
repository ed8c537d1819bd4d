//! GHASH (NIST SP 800-38D, 6.4), GCM's authenticator, with carry-less multiplication
//! aggregated over eight blocks (one reduction per eight): 512-bit VPCLMULQDQ where the CPU
//! has it, else 128-bit PCLMULQDQ. On a CPU with neither, [`Ghash::new`] returns `None`
//! and the caller uses a portable GHASH (the emulator's SM4-GCM falls back to the `ghash`
//! crate). Constant time: carry-less multiplication has fixed latency, and no branch or
//! address depends on the key or the data.

use crate::Block;

/// Which code computes GHASH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GhashImplementation {
    /// 512-bit VPCLMULQDQ (AVX-512), four blocks per multiplication, eight per reduction.
    Vpclmul512,
    /// 128-bit PCLMULQDQ, eight blocks per reduction.
    Pclmul,
}

impl GhashImplementation {
    /// Every implementation, fastest first (the detection order).
    pub const ALL: [GhashImplementation; 2] =
        [GhashImplementation::Vpclmul512, GhashImplementation::Pclmul];

    /// The fastest implementation this CPU supports, `None` when it has no carry-less
    /// multiplication.
    pub fn detect() -> Option<GhashImplementation> {
        Self::ALL.into_iter().find(|imp| imp.is_available())
    }

    /// Whether this CPU can run it.
    pub fn is_available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::x86::clmul::{Clmul128, Clmul512};
            match self {
                GhashImplementation::Vpclmul512 => Clmul512::detect().is_some(),
                GhashImplementation::Pclmul => Clmul128::detect().is_some(),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = self;
            false
        }
    }

    /// A short name for reports (`vpclmul512`, `pclmul`).
    pub fn as_str(self) -> &'static str {
        match self {
            GhashImplementation::Vpclmul512 => "vpclmul512",
            GhashImplementation::Pclmul => "pclmul",
        }
    }
}

/// The detected features a GHASH runs on.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
enum Engine {
    Wide(crate::x86::clmul::Clmul512),
    Narrow(crate::x86::clmul::Clmul128),
}

/// A GHASH computation under one key H: the key's powers H¹…H⁸ and the running value,
/// both zeroed on drop. Clone a keyed, empty one for each message (as with the `ghash`
/// crate's `GHash`).
#[derive(Clone)]
pub struct Ghash {
    #[cfg(target_arch = "x86_64")]
    engine: Engine,
    #[cfg(target_arch = "x86_64")]
    powers: crate::x86::clmul::Powers,
    acc: Block,
    #[cfg(not(target_arch = "x86_64"))]
    never: core::convert::Infallible,
}

impl Drop for Ghash {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.acc);
        #[cfg(target_arch = "x86_64")]
        zeroize::Zeroize::zeroize(&mut self.powers);
    }
}

impl std::fmt::Debug for Ghash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Ghash {{ implementation: {} }}",
            self.implementation().as_str()
        )
    }
}

impl Ghash {
    /// GHASH keyed with `h` (GCM's H = E_K(0¹²⁸)) on the fastest implementation this CPU
    /// runs; `None` when it has no carry-less multiplication.
    pub fn new(h: &Block) -> Option<Ghash> {
        Ghash::with_implementation(h, GhashImplementation::detect()?)
    }

    /// GHASH keyed with `h` on `implementation`; `None` when this CPU cannot run it.
    /// Tests and benches use it to force a path.
    pub fn with_implementation(h: &Block, implementation: GhashImplementation) -> Option<Ghash> {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::x86::clmul::{self, Clmul128, Clmul512};
            let engine = match implementation {
                GhashImplementation::Vpclmul512 => Engine::Wide(Clmul512::detect()?),
                GhashImplementation::Pclmul => Engine::Narrow(Clmul128::detect()?),
            };
            let narrow = match engine {
                Engine::Wide(t) => t.narrow(),
                Engine::Narrow(t) => t,
            };
            Some(Ghash {
                engine,
                powers: clmul::powers(narrow, h),
                acc: [0; 16],
            })
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (h, implementation);
            None
        }
    }

    /// The implementation this GHASH runs on.
    pub fn implementation(&self) -> GhashImplementation {
        #[cfg(target_arch = "x86_64")]
        match self.engine {
            Engine::Wide(_) => GhashImplementation::Vpclmul512,
            Engine::Narrow(_) => GhashImplementation::Pclmul,
        }
        #[cfg(not(target_arch = "x86_64"))]
        match self.never {}
    }

    /// Folds `data` in as whole blocks, the last one zero-padded if partial (GCM's
    /// treatment of the AAD and of the ciphertext).
    pub fn update_padded(&mut self, data: &[u8]) {
        let whole = data.len() / 16 * 16;
        self.update_whole(&data[..whole]);
        let rest = &data[whole..];
        if !rest.is_empty() {
            let mut last = [0u8; 16];
            last[..rest.len()].copy_from_slice(rest);
            self.update_whole(&last);
        }
    }

    /// Folds one block in (GCM's final lengths block).
    pub fn update_block(&mut self, block: &Block) {
        self.update_whole(block);
    }

    /// `data.len()` is a multiple of 16.
    fn update_whole(&mut self, data: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::x86::clmul;
            match self.engine {
                Engine::Wide(t) => clmul::update_wide(t, &self.powers, &mut self.acc, data),
                Engine::Narrow(t) => clmul::update(t, &self.powers, &mut self.acc, data),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = data;
            match self.never {}
        }
    }

    /// The GHASH value.
    pub fn finalize(self) -> Block {
        self.acc
    }
}
