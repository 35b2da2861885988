//! `vgae vae ...` and `vgae sample`: placeholder until the VAE work lands.

use crate::globals::Globals;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum VaeCommand {
    /// Train a VAE.
    Train(TrainArgs),
}

#[derive(Args)]
pub struct TrainArgs {}

#[derive(Args)]
pub struct SampleArgs {}

pub fn run(_c: VaeCommand, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("the VAE commands are not implemented yet")
}

pub fn sample(_a: SampleArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("vgae sample is not implemented yet")
}
