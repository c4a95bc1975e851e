//! Folding at load: per-channel constant additions and multiplications, and a ReLU, that follow
//! a convolution become part of it. dlib's ResNet, as written from face-api's weights, follows
//! every convolution with a bias, dlib's scale and its shift: three passes over the output that
//! the convolution's own bias and filter can carry for free.

use super::ops::{Activation, Binary, Conv};
use super::{Graph, Op};

/// What a step after a convolution does to its output, if it can be folded in.
enum Foldable {
    Add(Vec<f32>),
    Mul(Vec<f32>),
    Relu,
}

impl Graph {
    /// Folds into each convolution the foldable steps that alone read its output, in a chain.
    /// `readers[v]` lists the nodes that read value `v`.
    pub(super) fn fold_into_convs(&mut self, readers: &[Vec<usize>]) {
        let mut s = 0;
        while s < self.steps.len() {
            let Some((j, fold)) = self.foldable_after(s, readers) else {
                s += 1;
                continue;
            };
            let reader = self.steps.remove(j);
            let Op::Conv(conv) = &mut self.steps[s].op else {
                unreachable!("foldable_after only answers for convolutions")
            };
            fold_into(conv, fold);
            // The convolution now produces the folded value; its own is gone, so it can no
            // longer be asked for by name.
            let old = self.steps[s].output;
            self.names.retain(|_, v| *v != old);
            self.steps[s].output = reader.output;
        }
    }

    /// The step (index, and what it does) that can fold into convolution step `s`.
    fn foldable_after(&self, s: usize, readers: &[Vec<usize>]) -> Option<(usize, Foldable)> {
        let Op::Conv(conv) = &self.steps[s].op else {
            return None;
        };
        let out = self.steps[s].output;
        let [reader] = readers[out][..] else {
            return None;
        };
        let j = self.steps.iter().position(|t| t.output == reader)?;
        let step = &self.steps[j];
        let per_channel = |i: usize| -> Option<Vec<f32>> {
            let c = self.consts[i].as_ref()?;
            (c.len() == conv.cout && c.shape.last() == Some(&conv.cout)).then(|| c.data.clone())
        };
        let other = || {
            let [a, b] = step.inputs[..] else {
                return None;
            };
            per_channel(if a == out { b } else { a })
        };
        let linear = matches!(conv.act, Activation::None);
        let fold = match &step.op {
            Op::Binary(Binary::Add) if linear => Foldable::Add(other()?),
            Op::Binary(Binary::Mul) if linear => Foldable::Mul(other()?),
            Op::Relu if linear => Foldable::Relu,
            _ => return None,
        };
        Some((j, fold))
    }
}

fn fold_into(conv: &mut Conv, fold: Foldable) {
    match fold {
        Foldable::Add(c) => {
            let bias = conv.bias.get_or_insert_with(|| vec![0.0; conv.cout]);
            bias.iter_mut().zip(&c).for_each(|(b, v)| *b += v);
        }
        Foldable::Mul(c) => {
            for row in conv.filter.chunks_exact_mut(conv.cout) {
                row.iter_mut().zip(&c).for_each(|(w, v)| *w *= v);
            }
            if let Some(bias) = &mut conv.bias {
                bias.iter_mut().zip(&c).for_each(|(b, v)| *b *= v);
            }
        }
        Foldable::Relu => conv.act = Activation::Relu,
    }
}
