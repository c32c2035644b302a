;; The Adam update of one variable in one pass, 4 floats at a time, on the tfjs wasm backend's own heap (the memory
;; is imported, so no tensor is copied in or out). Arguments are byte offsets of float32 arrays of n elements.
;; The maths is tfjs's, in float32 as tfjs's own per-op Adam computes it:
;;   m' = beta1·m + (1 − beta1)·g;  v' = beta2·v + (1 − beta2)·g²;  p' = p − step·m' / (sqrt(scale·v') + epsilon)
;; with step = learningRate / (1 − beta1^t) and scale = 1 / (1 − beta2^t).

(module
  (import "tfjs" "memory" (memory 1))

  (func (export "adam")
    (param $p i32) (param $m i32) (param $v i32) (param $g i32) (param $p2 i32) (param $m2 i32) (param $v2 i32)
    (param $n i32) (param $beta1 f32) (param $beta2 f32) (param $step f32) (param $scale f32) (param $epsilon f32)
    (local $at i32) (local $vectorEnd i32) (local $end i32)
    (local $b1 v128) (local $c1 v128) (local $b2 v128) (local $c2 v128) (local $st v128) (local $sc v128)
    (local $eps v128) (local $grad v128) (local $first v128) (local $second v128)
    (local $gs f32) (local $fs f32) (local $ss f32)
    (local.set $b1 (f32x4.splat (local.get $beta1)))
    (local.set $c1 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta1))))
    (local.set $b2 (f32x4.splat (local.get $beta2)))
    (local.set $c2 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta2))))
    (local.set $st (f32x4.splat (local.get $step)))
    (local.set $sc (f32x4.splat (local.get $scale)))
    (local.set $eps (f32x4.splat (local.get $epsilon)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vectorEnd (i32.and (local.get $end) (i32.const -16)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $at) (local.get $vectorEnd)))
        (local.set $grad (v128.load (i32.add (local.get $g) (local.get $at))))
        (local.set $first (f32x4.add
          (f32x4.mul (local.get $b1) (v128.load (i32.add (local.get $m) (local.get $at))))
          (f32x4.mul (local.get $c1) (local.get $grad))))
        (local.set $second (f32x4.add
          (f32x4.mul (local.get $b2) (v128.load (i32.add (local.get $v) (local.get $at))))
          (f32x4.mul (local.get $c2) (f32x4.mul (local.get $grad) (local.get $grad)))))
        (v128.store (i32.add (local.get $m2) (local.get $at)) (local.get $first))
        (v128.store (i32.add (local.get $v2) (local.get $at)) (local.get $second))
        (v128.store (i32.add (local.get $p2) (local.get $at))
          (f32x4.sub
            (v128.load (i32.add (local.get $p) (local.get $at)))
            (f32x4.div
              (f32x4.mul (local.get $st) (local.get $first))
              (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $sc) (local.get $second))) (local.get $eps)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $vectors)))
    ;; The last n mod 4 elements, the same formula one float at a time.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $at))))
        (local.set $fs (f32.add
          (f32.mul (local.get $beta1) (f32.load (i32.add (local.get $m) (local.get $at))))
          (f32.mul (f32.sub (f32.const 1) (local.get $beta1)) (local.get $gs))))
        (local.set $ss (f32.add
          (f32.mul (local.get $beta2) (f32.load (i32.add (local.get $v) (local.get $at))))
          (f32.mul (f32.sub (f32.const 1) (local.get $beta2)) (f32.mul (local.get $gs) (local.get $gs)))))
        (f32.store (i32.add (local.get $m2) (local.get $at)) (local.get $fs))
        (f32.store (i32.add (local.get $v2) (local.get $at)) (local.get $ss))
        (f32.store (i32.add (local.get $p2) (local.get $at))
          (f32.sub
            (f32.load (i32.add (local.get $p) (local.get $at)))
            (f32.div
              (f32.mul (local.get $step) (local.get $fs))
              (f32.add (f32.sqrt (f32.mul (local.get $scale) (local.get $ss))) (local.get $epsilon)))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $tail))))
)
