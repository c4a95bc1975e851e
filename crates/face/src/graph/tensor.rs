//! A dense float tensor (row-major, NHWC for images). Integer constants (shapes, axes) are held
//! as floats too; they are small and exact.

/// Shape and data.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor; `data.len()` must equal the product of `shape`.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "shape {shape:?}"
        );
        Tensor { shape, data }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether it holds no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The data as integers (for shape and axis operands).
    pub fn ints(&self) -> Vec<i64> {
        self.data.iter().map(|v| *v as i64).collect()
    }
}
