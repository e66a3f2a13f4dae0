;; The fused step of hrank's Householder tridiagonalisation (src/science/linalg/eigen.ts),
;; in WebAssembly SIMD (f64x2). For the packed lower triangle t (row j at element j(j+1)/2),
;; rows j = 0.. in blocks of two while j + 1 <= m: A[j][k] -= u_j q_k + q_j u_k (k <= j), then
;; p += A v with the updated entries. Every operation is in the order of the JavaScript
;; reference `fusedBlocks2` (lane 0 sums even k, lane 1 odd k), so both give the same bits.
;; Two rows, not four: a block's live vectors then fit in the 16 SIMD registers V8 allocates
;; (four rows spilled), measured 15 - 25% faster per pass for n = 500 - 1,400.
;; Arguments are byte offsets into this module's memory; returns the first row not processed.
;; Assembled with wabt (npm) by scripts/build-wasm.mjs during npm ci.
(module
  (memory (export "memory") 1)
  (func (export "fused2") (param $t i32) (param $m i32) (param $u i32) (param $q i32) (param $v i32) (param $p i32) (result i32)
    (local $j i32) (local $off i32) (local $k i32) (local $kb i32) (local $ro i32) (local $jr i32) (local $c i32) (local $cb i32) (local $r i32)
    (local $o0 i32)
    (local $o1 i32)
    (local $u0 v128) (local $u1 v128)
    (local $q0 v128) (local $q1 v128)
    (local $v0 v128) (local $v1 v128)
    (local $s0 v128) (local $s1 v128)
    (local $a0 v128) (local $a1 v128)
    (local $uk v128) (local $qk v128) (local $vk v128)
    (local $x0 f64) (local $x1 f64) (local $ukf f64) (local $qkf f64) (local $vkf f64)
    (local $ur f64) (local $qr f64) (local $vr f64) (local $sr f64) (local $af f64) (local $dd f64)
    (block $done
      (loop $blocks
        ;; while j + 1 <= m
        (br_if $done (i32.gt_s (i32.add (local.get $j) (i32.const 1)) (local.get $m)))
        (local.set $o0 (local.get $off))
        (local.set $o1 (i32.add (local.get $o0) (i32.add (local.get $j) (i32.const 1))))
        (local.set $u0 (f64x2.splat (f64.load (i32.add (local.get $u) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $q0 (f64x2.splat (f64.load (i32.add (local.get $q) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $v0 (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $s0 (v128.const f64x2 0 0))
        (local.set $u1 (f64x2.splat (f64.load (i32.add (local.get $u) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))))))
        (local.set $q1 (f64x2.splat (f64.load (i32.add (local.get $q) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))))))
        (local.set $v1 (f64x2.splat (f64.load (i32.add (local.get $v) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))))))
        (local.set $s1 (v128.const f64x2 0 0))
        (local.set $k (i32.const 0))
        (block $pairsDone
          (loop $pairs
            ;; while k + 1 < j
            (br_if $pairsDone (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $j)))
            (local.set $kb (i32.shl (local.get $k) (i32.const 3)))
            (local.set $uk (v128.load (i32.add (local.get $u) (local.get $kb))))
            (local.set $qk (v128.load (i32.add (local.get $q) (local.get $kb))))
            (local.set $vk (v128.load (i32.add (local.get $v) (local.get $kb))))
            (local.set $a0 (f64x2.sub (f64x2.sub (v128.load (i32.add (local.get $t) (i32.shl (i32.add (local.get $o0) (local.get $k)) (i32.const 3)))) (f64x2.mul (local.get $u0) (local.get $qk))) (f64x2.mul (local.get $q0) (local.get $uk))))
            (v128.store (i32.add (local.get $t) (i32.shl (i32.add (local.get $o0) (local.get $k)) (i32.const 3))) (local.get $a0))
            (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $a0) (local.get $vk))))
            (local.set $a1 (f64x2.sub (f64x2.sub (v128.load (i32.add (local.get $t) (i32.shl (i32.add (local.get $o1) (local.get $k)) (i32.const 3)))) (f64x2.mul (local.get $u1) (local.get $qk))) (f64x2.mul (local.get $q1) (local.get $uk))))
            (v128.store (i32.add (local.get $t) (i32.shl (i32.add (local.get $o1) (local.get $k)) (i32.const 3))) (local.get $a1))
            (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $a1) (local.get $vk))))
            (v128.store (i32.add (local.get $p) (local.get $kb))
              (f64x2.add (v128.load (i32.add (local.get $p) (local.get $kb)))
                (f64x2.add (f64x2.mul (local.get $a0) (local.get $v0)) (f64x2.mul (local.get $a1) (local.get $v1)))))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $pairs)))
        ;; One column left (j odd): k = j - 1, an even k, so it joins lane 0.
        (if (i32.lt_s (local.get $k) (local.get $j))
          (then
            (local.set $kb (i32.shl (local.get $k) (i32.const 3)))
            (local.set $ukf (f64.load (i32.add (local.get $u) (local.get $kb))))
            (local.set $qkf (f64.load (i32.add (local.get $q) (local.get $kb))))
            (local.set $vkf (f64.load (i32.add (local.get $v) (local.get $kb))))
            (local.set $x0 (f64.sub (f64.sub (f64.load (i32.add (local.get $t) (i32.shl (i32.add (local.get $o0) (local.get $k)) (i32.const 3)))) (f64.mul (f64x2.extract_lane 0 (local.get $u0)) (local.get $qkf))) (f64.mul (f64x2.extract_lane 0 (local.get $q0)) (local.get $ukf))))
            (f64.store (i32.add (local.get $t) (i32.shl (i32.add (local.get $o0) (local.get $k)) (i32.const 3))) (local.get $x0))
            (local.set $s0 (f64x2.replace_lane 0 (local.get $s0) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64.mul (local.get $x0) (local.get $vkf)))))
            (local.set $x1 (f64.sub (f64.sub (f64.load (i32.add (local.get $t) (i32.shl (i32.add (local.get $o1) (local.get $k)) (i32.const 3)))) (f64.mul (f64x2.extract_lane 0 (local.get $u1)) (local.get $qkf))) (f64.mul (f64x2.extract_lane 0 (local.get $q1)) (local.get $ukf))))
            (f64.store (i32.add (local.get $t) (i32.shl (i32.add (local.get $o1) (local.get $k)) (i32.const 3))) (local.get $x1))
            (local.set $s1 (f64x2.replace_lane 0 (local.get $s1) (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64.mul (local.get $x1) (local.get $vkf)))))
            (f64.store (i32.add (local.get $p) (local.get $kb))
              (f64.add (f64.load (i32.add (local.get $p) (local.get $kb)))
                (f64.add (f64.mul (local.get $x0) (f64x2.extract_lane 0 (local.get $v0))) (f64.mul (local.get $x1) (f64x2.extract_lane 0 (local.get $v1))))))))
        (f64.store (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 3))) (f64.add (f64.load (i32.add (local.get $p) (i32.shl (local.get $j) (i32.const 3)))) (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0)))))
        (f64.store (i32.add (local.get $p) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3))) (f64.add (f64.load (i32.add (local.get $p) (i32.shl (i32.add (local.get $j) (i32.const 1)) (i32.const 3)))) (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1)))))
        ;; The 2 x 2 lower triangle in columns j..j+1, scalar, row by row.
        (local.set $ro (local.get $off))
        (local.set $r (i32.const 0))
        (block $cornerDone
          (loop $corner
            (br_if $cornerDone (i32.ge_s (local.get $r) (i32.const 2)))
            (local.set $jr (i32.add (local.get $j) (local.get $r)))
            (local.set $ur (f64.load (i32.add (local.get $u) (i32.shl (local.get $jr) (i32.const 3)))))
            (local.set $qr (f64.load (i32.add (local.get $q) (i32.shl (local.get $jr) (i32.const 3)))))
            (local.set $vr (f64.load (i32.add (local.get $v) (i32.shl (local.get $jr) (i32.const 3)))))
            (local.set $sr (f64.const 0))
            (local.set $c (local.get $j))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_s (local.get $c) (local.get $jr)))
                (local.set $cb (i32.shl (local.get $c) (i32.const 3)))
                (local.set $af (f64.sub (f64.sub (f64.load (i32.add (local.get $t) (i32.shl (i32.add (local.get $ro) (local.get $c)) (i32.const 3))))
                  (f64.mul (local.get $ur) (f64.load (i32.add (local.get $q) (local.get $cb)))))
                  (f64.mul (local.get $qr) (f64.load (i32.add (local.get $u) (local.get $cb))))))
                (f64.store (i32.add (local.get $t) (i32.shl (i32.add (local.get $ro) (local.get $c)) (i32.const 3))) (local.get $af))
                (local.set $sr (f64.add (local.get $sr) (f64.mul (local.get $af) (f64.load (i32.add (local.get $v) (local.get $cb))))))
                (f64.store (i32.add (local.get $p) (local.get $cb)) (f64.add (f64.load (i32.add (local.get $p) (local.get $cb))) (f64.mul (local.get $af) (local.get $vr))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cols)))
            (local.set $dd (f64.sub (f64.load (i32.add (local.get $t) (i32.shl (i32.add (local.get $ro) (local.get $jr)) (i32.const 3))))
              (f64.mul (f64.mul (f64.const 2) (local.get $ur)) (local.get $qr))))
            (f64.store (i32.add (local.get $t) (i32.shl (i32.add (local.get $ro) (local.get $jr)) (i32.const 3))) (local.get $dd))
            (f64.store (i32.add (local.get $p) (i32.shl (local.get $jr) (i32.const 3)))
              (f64.add (f64.load (i32.add (local.get $p) (i32.shl (local.get $jr) (i32.const 3))))
                (f64.add (local.get $sr) (f64.mul (local.get $dd) (local.get $vr)))))
            (local.set $ro (i32.add (local.get $ro) (i32.add (local.get $jr) (i32.const 1))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $corner)))
        (local.set $off (local.get $ro))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $blocks)))
    (local.get $j)))
