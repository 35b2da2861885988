//! The wake-sleep algorithm (Hinton, Dayan, Frey & Neal 1995) on AEVB's two networks, the comparison of
//! Kingma & Welling's Figure 2. The recognition model q(z | x) is the encoder and the generative model
//! p(x | z) p(z) the decoder, exactly as AEVB trains them; only the objectives differ:
//!
//! - **wake**: z ~ q(z | x) for the data, held fixed; the decoder follows ∇θ log p(x | z);
//! - **sleep**: z' ~ p(z), x' ~ p(x | z') (a dream), held fixed; the encoder follows ∇φ log q(z' | x').
//!
//! Both losses come from one backward pass: the wake loss depends on the decoder alone (z is detached), the
//! sleep loss on the encoder alone (the dream is detached). The lower bound reported for a wake-sleep model
//! is AEVB's estimator ([`super::eval::neg_elbo`]), so the two curves are comparable.

use super::config::Likelihood;
use super::loss;
use super::model::Vae;
use crate::rng::RunRng;
use crate::Result;
use candle_core::{DType, Tensor};

/// The noise of one wake-sleep step, drawn from the run's RNG in this order.
pub struct WakeSleepNoise {
    /// `[B, z]` standard normal: the wake sample z = μ + σ ε.
    pub eps: Tensor,
    /// `[B, z]` standard normal: the dreams' latents z' ~ p(z).
    pub z_dream: Tensor,
    /// `[B, pixels]`: uniform in [0, 1) for a Bernoulli decoder (x' = [u < σ(logit)]), standard normal for a
    /// Gaussian one (x' = mean + σ u).
    pub u_dream: Tensor,
}

impl WakeSleepNoise {
    /// Draws a step's noise for a batch of `rows`.
    pub fn draw(model: &Vae, rows: usize, rng: &mut RunRng) -> Result<Self> {
        let dev = model.out.weight.device();
        let (z, d) = (model.cfg.z, model.cfg.input_dim);
        let eps = rng.normal(&[rows, z], dev)?;
        let z_dream = rng.normal(&[rows, z], dev)?;
        let u_dream = match model.cfg.likelihood {
            Likelihood::Bernoulli => rng.uniform(0.0, 1.0, &[rows, d], dev)?,
            Likelihood::Gaussian => rng.normal(&[rows, d], dev)?,
        };
        Ok(WakeSleepNoise {
            eps,
            z_dream,
            u_dream,
        })
    }
}

/// One step's losses, each summed over the batch.
pub struct WakeSleepLosses {
    /// −Σ log p(x | z), z ~ q(z | x) detached: its gradient reaches only the decoder.
    pub wake: Tensor,
    /// −Σ log q(z' | x') for dreams (z', x') detached: its gradient reaches only the encoder.
    pub sleep: Tensor,
    /// −Σ ELBO of the batch with the wake sample (wake NLL + KL(q ‖ p)), for reporting; no gradient.
    pub neg_elbo: Tensor,
}

impl Vae {
    /// A dream x' ~ p(x | z) for latents `z: [B, z]` and the noise `u` of [`WakeSleepNoise::u_dream`].
    pub fn dream(&self, z: &Tensor, u: &Tensor) -> Result<Tensor> {
        let d = self.decode(z)?;
        Ok(match &d.logvar {
            None => u
                .lt(&candle_nn::ops::sigmoid(&d.out)?)?
                .to_dtype(DType::F32)?,
            Some(lv) => (&d.out + ((lv * 0.5)?.exp()? * u)?)?,
        })
    }

    /// The wake and sleep losses of images `x: [B, pixels]` with `noise`.
    pub fn wake_sleep_losses(&self, x: &Tensor, noise: &WakeSleepNoise) -> Result<WakeSleepLosses> {
        // Wake: the recognition model proposes z; only the generative model learns from it.
        let (mu, logvar) = self.encode(x)?;
        let (mu, logvar) = (mu.detach(), logvar.detach());
        let z = (&mu + ((&logvar * 0.5)?.exp()? * &noise.eps)?)?;
        let nll = self.decode(&z)?.nll(x)?;
        let kl = loss::kl_std_normal(&mu, &logvar)?;
        let neg_elbo = (&nll + kl)?.sum_all()?.detach();
        // Sleep: the generative model dreams; only the recognition model learns to invert the dream.
        let x_dream = self.dream(&noise.z_dream, &noise.u_dream)?.detach();
        let (qm, qlv) = self.encode(&x_dream)?;
        let sleep = loss::gaussian_nll_sum(&qm, &qlv, &noise.z_dream)?.sum_all()?;
        Ok(WakeSleepLosses {
            wake: nll.sum_all()?,
            sleep,
            neg_elbo,
        })
    }
}
