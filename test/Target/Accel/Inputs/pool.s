; Max and average pooling on a small target.
.target name = tiny
.target tn = 8
.target tm = 8
.target input_buffer = 1K
.target weight_buffer = 256
.target output_buffer = 1K
.target dma_bytes_per_cycle = 4
.target dma_latency = 10
.dram 72
.input x shape=1x4x4x3 addr=0 scale=0.5 zp=2
.output m shape=1x2x2x3 addr=48 scale=0.5 zp=2
.output a shape=1x2x2x3 addr=60 scale=0.5 zp=2
.data 0
load buf=0 dram=0 sram=0 rows=4 cols=4 elem=3 stride=12 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0 push_next
pool kind=0 src=0 dst=0 in_w=4 c=3 out_h=2 out_w=2 kh=2 kw=2 sh=2 sw=2 zp=0 qmin=-128 qmax=127 pop_prev
pool kind=1 src=0 dst=12 in_w=4 c=3 out_h=2 out_w=2 kh=3 kw=3 sh=1 sw=1 zp=2 qmin=-10 qmax=100 push_next
store dram=48 sram=0 rows=1 cols=24 elem=1 stride=24 pop_prev
