use super::*;
use burn::module::Param;

fn config() -> TransformerConfig {
    TransformerConfig::new(11, 8, 16, 4, 2)
}

fn tokens(rows: &[[i64; 6]], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), 6]), device)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec()
        .expect("f32 data")
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Logits of one sequence position: `[vocab]` values.
fn at(logits: &Tensor<3>, batch: usize, pos: usize) -> Vec<f32> {
    let [_, _, vocab] = logits.dims();
    values(
        logits
            .clone()
            .slice([batch..batch + 1, pos..pos + 1, 0..vocab]),
    )
}

#[test]
fn shapes_and_both_paths_agree() {
    let device = Device::flex();
    let model = config().init(&device);
    let input = ModelInput::new(tokens(&[[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]], &device));
    let out = model.forward_with_attention(input.clone());
    assert_eq!(out.logits.dims(), [2, 6, 11]);
    assert_eq!(out.attention.len(), 2);
    for layer in &out.attention {
        assert_eq!(layer.dims(), [2, 4, 6, 6]);
    }
    let fused = model.forward(input);
    assert!(max_diff(&values(fused), &values(out.logits)) < 1e-5);
}

#[test]
fn causal_model_ignores_the_future_and_bidirectional_does_not() {
    let device = Device::flex();
    for causal in [true, false] {
        let model = config().with_causal(causal).init(&device);
        let a = model.forward(ModelInput::new(tokens(&[[1, 2, 3, 4, 5, 6]], &device)));
        let b = model.forward(ModelInput::new(tokens(&[[1, 2, 3, 9, 9, 9]], &device)));
        let diff = max_diff(&at(&a, 0, 2), &at(&b, 0, 2));
        match causal {
            true => assert_eq!(diff, 0.0, "position 2 saw a later token"),
            false => assert!(diff > 1e-4, "bidirectional position 2 ignored later tokens"),
        }
    }
}

#[test]
fn padding_changes_nothing_at_real_positions() {
    let device = Device::flex();
    let model = config().init(&device);
    let pad = tinyattn_attention::padding_mask(&[4], 6, &device);
    let a = model
        .forward(ModelInput::new(tokens(&[[1, 2, 3, 4, 0, 0]], &device)).pad_mask(pad.clone()));
    let b = model.forward(ModelInput::new(tokens(&[[1, 2, 3, 4, 7, 8]], &device)).pad_mask(pad));
    for pos in 0..4 {
        assert_eq!(
            max_diff(&at(&a, 0, pos), &at(&b, 0, pos)),
            0.0,
            "position {pos}"
        );
    }
}

#[test]
fn ablating_a_head_equals_zeroing_its_slice_of_the_output_projection() {
    let device = Device::flex();
    let model = config().init(&device);
    let input = ModelInput::new(tokens(&[[1, 2, 3, 4, 5, 6]], &device));
    let (layer, head, d_k) = (1, 2, 4);

    let ablated = model.forward(input.clone().ablate(layer, head));

    // Independent route to the same model: the output projection reads head h from input rows
    // h*d_k..(h+1)*d_k of its [d_model, d_model] weight; zero them.
    let mut reference = model.clone();
    let output = &mut reference.blocks[layer].attention.output;
    let mut w = values(output.weight.val());
    for row in head * d_k..(head + 1) * d_k {
        w[row * 16..(row + 1) * 16].fill(0.0);
    }
    output.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [16, 16]), &device));
    let expected = reference.forward(input.clone());

    assert!(max_diff(&values(ablated.clone()), &values(expected)) < 1e-5);
    let intact = model.forward(input);
    assert!(
        max_diff(&values(ablated), &values(intact)) > 1e-4,
        "ablation changed nothing"
    );
}

#[test]
fn invalid_configs_are_named() {
    let err = TransformerConfig::new(11, 8, 18, 4, 2)
        .validate()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("n_heads (4) must divide d_model (18)"),
        "{err}"
    );
    let err = TransformerConfig::new(11, 0, 16, 4, 2)
        .validate()
        .unwrap_err();
    assert_eq!(err.to_string(), "max_seq_len must be greater than 0");
}
