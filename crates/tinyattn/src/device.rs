//! Picking the device a job runs on, with one line that says what was picked and why.

use std::sync::Mutex;

use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};

use crate::config::DeviceChoice;

/// A device ready for tensors, and how to describe it to the user.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The burn device (without autodiff).
    pub device: Device,
    /// One line naming the backend and adapter, e.g. `wgpu (Vulkan): NVIDIA H200`.
    pub description: String,
}

/// Why the requested device cannot be had.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(String);

/// Resolves `--device`. `auto` takes a hardware GPU adapter when wgpu finds one and the CPU
/// otherwise: a software adapter (lavapipe, llvmpipe, WARP) counts as no GPU, because on the
/// same cores flex is several times faster. `wgpu` takes whatever adapter wgpu offers.
pub fn select(choice: DeviceChoice) -> Result<Selected, DeviceError> {
    match choice {
        DeviceChoice::Flex => Ok(flex("flex (CPU), as asked".to_string())),
        DeviceChoice::Wgpu => wgpu_device(DeviceKind::DefaultDevice).map_err(|err| {
            DeviceError(format!(
                "--device wgpu: no usable wgpu adapter ({err}). Install a GPU driver with Vulkan \
                 support (on Debian/Ubuntu without a GPU, `apt-get install mesa-vulkan-drivers \
                 libvulkan1` gives a software one), or train on the CPU with --device flex"
            ))
        }),
        DeviceChoice::Auto => {
            let adapters = adapters();
            let gpu = [
                wgpu::DeviceType::DiscreteGpu,
                wgpu::DeviceType::IntegratedGpu,
                wgpu::DeviceType::VirtualGpu,
            ]
            .into_iter()
            .find(|kind| adapters.iter().any(|a| a.device_type == *kind));
            let kind = match gpu {
                Some(wgpu::DeviceType::DiscreteGpu) => DeviceKind::DiscreteGpu(0),
                Some(wgpu::DeviceType::IntegratedGpu) => DeviceKind::IntegratedGpu(0),
                Some(_) => DeviceKind::VirtualGpu(0),
                None => {
                    let software: Vec<String> = adapters.iter().map(|a| a.name.clone()).collect();
                    let why = match software.is_empty() {
                        true => "no GPU adapter found".to_string(),
                        false => format!(
                            "no GPU adapter found (only software: {}; use --device wgpu to train there anyway)",
                            software.join(", ")
                        ),
                    };
                    return Ok(flex(format!("flex (CPU): {why}")));
                }
            };
            match wgpu_device(kind) {
                Ok(selected) => Ok(selected),
                Err(err) => Ok(flex(format!(
                    "flex (CPU): the GPU adapter failed to start ({err})"
                ))),
            }
        }
    }
}

fn flex(description: String) -> Selected {
    Selected {
        device: Device::flex(),
        description,
    }
}

/// A wgpu runtime can be set up once per process and device kind; later requests for the same
/// kind (a second job in one process, tests) reuse it.
fn wgpu_device(kind: DeviceKind) -> Result<Selected, String> {
    static STARTED: Mutex<Vec<(String, Selected)>> = Mutex::new(Vec::new());
    let key = format!("{kind:?}");
    let mut started = STARTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, selected)) = started.iter().find(|(k, _)| *k == key) {
        return Ok(selected.clone());
    }
    let selected = start_wgpu(kind)?;
    started.push((key, selected.clone()));
    Ok(selected)
}

fn start_wgpu(kind: DeviceKind) -> Result<Selected, String> {
    let (device, setup) = Device::wgpu_options()
        .device_kind(kind)
        .init_with_setup()
        .map_err(|err| err.to_string())?;
    let info = setup.adapter.get_info();
    Ok(Selected {
        device,
        description: format!(
            "wgpu ({:?}): {} [{:?}]",
            info.backend, info.name, info.device_type
        ),
    })
}

/// Every adapter wgpu can see on this machine, on any graphics API.
fn adapters() -> Vec<wgpu::AdapterInfo> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    futures_lite::future::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .iter()
        .map(wgpu::Adapter::get_info)
        .collect()
}
