//! A process's place in a one-process-per-GPU launch, as launchers announce it in the environment:
//! `RANK`, `WORLD_SIZE` and `LOCAL_RANK` (torchrun's names; a Slurm script sets them from `SLURM_PROCID`,
//! `SLURM_NTASKS` and `SLURM_LOCALID`).

use vgae_core::{Error, Result};

/// The environment variables read, in order.
pub const VARS: [&str; 3] = ["RANK", "WORLD_SIZE", "LOCAL_RANK"];

/// Where this process stands in the launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    /// This process's rank, `0..world_size`.
    pub rank: usize,
    /// Number of processes.
    pub world_size: usize,
    /// Rank on this host: the GPU ordinal it computes on (defaults to `rank`).
    pub local_rank: usize,
}

impl Launch {
    /// The launch the environment describes; `None` when `WORLD_SIZE` is unset (no such launcher).
    pub fn from_env() -> Result<Option<Launch>> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`Launch::from_env`] over any variable lookup. A set but malformed or inconsistent variable is an
    /// error naming it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Launch>> {
        let Some(size) = get("WORLD_SIZE") else {
            return Ok(None);
        };
        let num = |name: &str, v: &str| {
            v.trim().parse::<usize>().map_err(|_| {
                Error::msg(format!(
                    "{name}={v:?}: expected a non-negative integer (a one-process-per-GPU launch \
                     sets RANK, WORLD_SIZE and LOCAL_RANK)"
                ))
            })
        };
        let world_size = num("WORLD_SIZE", &size)?;
        let rank = match get("RANK") {
            Some(r) => num("RANK", &r)?,
            None if world_size == 1 => 0,
            None => {
                return Err(Error::msg(format!(
                    "WORLD_SIZE={world_size} but RANK is not set: each process needs its rank"
                )))
            }
        };
        let local_rank = match get("LOCAL_RANK") {
            Some(r) => num("LOCAL_RANK", &r)?,
            None => rank,
        };
        if world_size == 0 || rank >= world_size {
            return Err(Error::msg(format!(
                "RANK={rank} with WORLD_SIZE={world_size}: the rank must be below the world size"
            )));
        }
        Ok(Some(Launch {
            rank,
            world_size,
            local_rank,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(vars: &[(&str, &str)]) -> Result<Option<Launch>> {
        Launch::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn torchrun_variables_are_read_and_checked() {
        assert_eq!(launch(&[]).unwrap(), None);
        let l = launch(&[("RANK", "1"), ("WORLD_SIZE", "4"), ("LOCAL_RANK", "1")]).unwrap();
        assert_eq!(
            l,
            Some(Launch {
                rank: 1,
                world_size: 4,
                local_rank: 1
            })
        );
        // One process needs no rank; the local rank defaults to the rank.
        assert_eq!(launch(&[("WORLD_SIZE", "1")]).unwrap().unwrap().rank, 0);
        let l = launch(&[("RANK", "3"), ("WORLD_SIZE", "8")])
            .unwrap()
            .unwrap();
        assert_eq!(l.local_rank, 3);
        for (vars, needle) in [
            (vec![("WORLD_SIZE", "2")], "RANK is not set"),
            (
                vec![("RANK", "2"), ("WORLD_SIZE", "2")],
                "below the world size",
            ),
            (
                vec![("RANK", "0"), ("WORLD_SIZE", "0")],
                "below the world size",
            ),
            (vec![("RANK", "x"), ("WORLD_SIZE", "2")], "RANK=\"x\""),
            (vec![("WORLD_SIZE", "-1")], "WORLD_SIZE=\"-1\""),
            (
                vec![("RANK", "0"), ("WORLD_SIZE", "2"), ("LOCAL_RANK", "")],
                "LOCAL_RANK",
            ),
        ] {
            let e = launch(&vars).unwrap_err().to_string();
            assert!(e.contains(needle), "{vars:?}: {e}");
        }
    }
}
