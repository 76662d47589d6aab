"""The one catalog of user-facing strings, in English and Simplified Chinese.

Every entry maps a key to ``{"en": ..., "zh": ...}``. Strings may hold ``str.format`` fields
(``{t}``); both languages must use the same fields (a test checks it). Formulas and numbers are
the same in both languages, so they stay outside the catalog.
"""

from __future__ import annotations

import string
from typing import Literal

Language = Literal["en", "zh"]
LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE: Language = "en"

CATALOG: dict[str, dict[str, str]] = {
    # --- shell and navigation --------------------------------------------------------------
    "app.title": {"en": "Forward diffusion explorer", "zh": "前向扩散过程演示"},
    "nav.home": {"en": "Home", "zh": "首页"},
    "nav.schedules": {"en": "Schedules", "zh": "噪声调度"},
    "nav.image": {"en": "Image noising", "zh": "图像加噪"},
    "nav.histogram": {"en": "Histogram animation", "zh": "直方图动画"},
    "nav.signal": {"en": "Signal & noise", "zh": "信号与噪声"},
    # --- shared sidebar --------------------------------------------------------------------
    "sidebar.language": {"en": "Language", "zh": "语言"},
    "sidebar.process": {"en": "Forward process", "zh": "前向过程"},
    "sidebar.timesteps": {"en": "Timesteps T", "zh": "时间步数 T"},
    "sidebar.timesteps.help": {
        "en": "Number of noising steps (10 to 4000).",
        "zh": "加噪的总步数（10 到 4000）。",
    },
    "sidebar.schedule": {"en": "Noise schedule", "zh": "噪声调度"},
    "sidebar.params": {"en": "Schedule parameters", "zh": "调度参数"},
    "sidebar.zero_snr": {"en": "Zero terminal SNR", "zh": "终端信噪比为零"},
    "sidebar.zero_snr.help": {
        "en": "Rescale the schedule so that ᾱ at the last step is exactly 0 (Lin et al. 2024).",
        "zh": "重新缩放调度，使最后一步的 ᾱ 恰好为 0（Lin 等，2024）。",
    },
    "sidebar.seed": {"en": "Random seed", "zh": "随机种子"},
    "sidebar.seed.help": {
        "en": "The same seed gives the same noise and the same pictures.",
        "zh": "相同的种子产生相同的噪声和相同的图像。",
    },
    "sidebar.device": {"en": "Computing on: {device}", "zh": "计算设备：{device}"},
    "sidebar.share": {
        "en": "The address bar holds these settings: copy it to share this exact view.",
        "zh": "地址栏保存了这些设置：复制链接即可分享完全相同的视图。",
    },
    "sidebar.reset": {"en": "Reset parameters", "zh": "恢复默认参数"},
    "param.beta_start": {"en": "β start", "zh": "起始 β"},
    "param.beta_end": {"en": "β end", "zh": "结束 β"},
    "param.s": {"en": "offset s", "zh": "偏移量 s"},
    "param.min_beta": {"en": "minimum β (clip)", "zh": "β 下限（裁剪）"},
    "param.max_beta": {"en": "maximum β (clip)", "zh": "β 上限（裁剪）"},
    "schedule.linear": {"en": "Linear", "zh": "线性"},
    "schedule.cosine": {"en": "Cosine", "zh": "余弦"},
    "schedule.quadratic": {"en": "Quadratic", "zh": "二次"},
    "schedule.scaled_linear": {
        "en": "Scaled linear (Stable Diffusion)",
        "zh": "缩放线性（Stable Diffusion）",
    },
    "schedule.sigmoid": {"en": "Sigmoid", "zh": "Sigmoid"},
    "schedule.custom": {"en": "Custom (uploaded)", "zh": "自定义（上传）"},
    # --- messages --------------------------------------------------------------------------
    "notice.url": {
        "en": "Some settings in the link were ignored: {problems}",
        "zh": "链接中的部分设置已被忽略：{problems}",
    },
    "notice.url.separator": {"en": "; ", "zh": "；"},
    "notice.url.other_schedule": {
        "en": "“{key}” belongs to the {schedule} schedule, which is not chosen here",
        "zh": "“{key}”是{schedule}调度的参数，而此处未选择该调度",
    },
    "notice.url.unknown": {"en": "unknown parameter “{key}”", "zh": "未知参数“{key}”"},
    "notice.url.bad": {
        "en": "“{key}={value}” is not valid ({reason})",
        "zh": "“{key}={value}”无效（{reason}）",
    },
    "notice.url.repeated": {
        "en": "“{key}” appears more than once; the first value is used",
        "zh": "“{key}”出现多次，只使用第一个值",
    },
    "error.schedule": {
        "en": "These schedule settings do not work: {reason}. Change them or press “Reset parameters”.",
        "zh": "这些调度设置无效：{reason}。请修改，或点击“恢复默认参数”。",
    },
    "notice.signal_left": {
        "en": "With T = {T} this schedule ends at ᾱ = {alpha}: the last x_t still holds "
        "√ᾱ = {signal} of the data, far from pure noise. The β values were chosen for about "
        "T = 1000: raise T or β's end value, or take the cosine schedule.",
        "zh": "T = {T} 时该调度的最后一步 ᾱ = {alpha}：最后的 x_t 仍保留 √ᾱ = {signal} 倍的数据，"
        "远不是纯噪声。这些 β 取值是为 T ≈ 1000 设计的：请增大 T 或 β 的终值，或改用余弦调度。",
    },
    "notice.beta_reversed": {
        "en": "β starts at {start} and ends at {end}: the noise added per step shrinks over t, "
        "the reverse of every published schedule, and ᾱ falls fastest at the start.",
        "zh": "β 从 {start} 开始、到 {end} 结束：每步加入的噪声随 t 减少，与所有已发表的调度相反，"
        "ᾱ 在开始时下降最快。",
    },
    "error.device": {
        "en": "The requested device cannot be used ({reason}); computing on the CPU instead.",
        "zh": "无法使用所请求的设备（{reason}），改为在 CPU 上计算。",
    },
    "reason.integer": {"en": "a whole number is expected", "zh": "应为整数"},
    "reason.number": {"en": "a finite number is expected", "zh": "应为有限的数"},
    "reason.range": {"en": "allowed: {low} to {high}", "zh": "允许范围：{low} 到 {high}"},
    "reason.choice": {"en": "allowed: {choices}", "zh": "可选值：{choices}"},
    "reason.bool": {"en": "use 1 or 0", "zh": "请使用 1 或 0"},
    # --- home ------------------------------------------------------------------------------
    "home.lead": {
        "en": "Diffusion models learn to undo a fixed process that slowly turns data into noise. "
        "This app lets you watch that **forward process** exactly: every step adds a little "
        "Gaussian noise, and after T steps almost nothing of the data is left.",
        "zh": "扩散模型学习的是逆转一个固定过程：该过程逐步把数据变成噪声。本应用让你精确地观察这个"
        "**前向过程**：每一步加入少量高斯噪声，经过 T 步后数据的信息几乎全部消失。",
    },
    "home.step": {
        "en": "One step adds noise of variance β_t:",
        "zh": "每一步加入方差为 β_t 的噪声：",
    },
    "home.closed": {
        "en": "Steps compose, so any x_t can be drawn from x_0 in one go (the closed form):",
        "zh": "多步可以合并，因此任意时刻的 x_t 都能由 x_0 一步直接采样（闭合形式）：",
    },
    "home.alphabar": {
        "en": "with the cumulative product of the α_t = 1 − β_t:",
        "zh": "其中 α_t = 1 − β_t 的累积乘积为：",
    },
    "home.snr": {
        "en": "The signal-to-noise ratio falls from large to (nearly) zero:",
        "zh": "信噪比从很大逐渐降到（接近）零：",
    },
    "home.pages": {"en": "Explore", "zh": "开始探索"},
    "home.card.schedules": {
        "en": "Compare noise schedules: β_t, ᾱ_t and log-SNR side by side, with the key-timestep table.",
        "zh": "比较噪声调度：并排查看 β_t、ᾱ_t 与 log-SNR，以及关键时间步表格。",
    },
    "home.card.image": {
        "en": "Upload a picture and drag the timestep slider to watch it dissolve into noise.",
        "zh": "上传一张图片，拖动时间步滑块，观看它逐渐溶解为噪声。",
    },
    "home.card.histogram": {
        "en": "Watch a 1-D distribution flow into N(0, 1), with the exact density of q(x_t).",
        "zh": "观察一维分布如何流向 N(0, 1)，并叠加 q(x_t) 的精确密度。",
    },
    "home.card.signal": {
        "en": "Signal and noise scales, ᾱ_t, SNR and the posterior variance, at any timestep.",
        "zh": "信号与噪声系数、ᾱ_t、信噪比以及后验方差，可查看任意时间步。",
    },
    "home.open": {"en": "Open", "zh": "打开"},
    "home.index": {
        "en": "Indexing: timestep t = 0 … T−1 is the state after steps 0 … t, so x_t has had "
        "t + 1 steps of noise. x_0 in the formulas is always the clean picture: the state at "
        "t = 0 is already one step from it (the code convention, as in diffusers; the DDPM paper "
        "calls that state x_1).",
        "zh": "索引约定：时间步 t = 0 … T−1 表示完成第 0 … t 步之后的状态，因此 x_t 已加入 t + 1 "
        "步噪声。公式中的 x_0 始终是干净的图像：t = 0 处的状态已离它一步（代码约定，与 diffusers "
        "一致；DDPM 论文把这一状态记为 x_1）。",
    },
    "home.derive": {
        "en": "Why one draw is enough: the closed form, step by step",
        "zh": "为什么一步采样就够了：闭合形式的推导",
    },
    "home.derive.step": {
        "en": r"Write one step with a standard normal $\epsilon$ (reparameterisation), "
        r"$\alpha_t = 1 - \beta_t$:",
        "zh": r"用标准正态噪声 $\epsilon$ 写出一步（重参数化），其中 $\alpha_t = 1 - \beta_t$：",
    },
    "home.derive.twice": {
        "en": "Put in the step before. The two noise terms are independent Gaussians, so their "
        r"sum is one Gaussian whose variance is the sum of theirs: $\alpha_t(1-\alpha_{t-1}) "
        r"+ (1-\alpha_t) = 1-\alpha_t\alpha_{t-1}$.",
        "zh": "代入前一步。两个噪声项是相互独立的高斯变量，它们的和仍是高斯变量，方差为两者之和："
        r"$\alpha_t(1-\alpha_{t-1}) + (1-\alpha_t) = 1-\alpha_t\alpha_{t-1}$。",
    },
    "home.derive.all": {
        "en": r"Repeat down to the clean data $x_0$ and the $\alpha$ multiply into "
        r"$\overline{\alpha}_t$: $x_t$ given $x_0$ is one Gaussian, drawn with one $\epsilon$ "
        "however many steps lie between. The Markov chain "
        "(fresh noise every step) and this closed form have the same marginals, which the "
        "histogram page tests at every frame.",
        "zh": r"一直代入到干净数据 $x_0$，各个 $\alpha$ 相乘得到 $\overline{\alpha}_t$：给定 $x_0$ "
        r"时 $x_t$ 服从一个高斯分布，无论中间隔了多少步，都只需一个 $\epsilon$ 即可采样。马尔可夫链（每步加入新噪声）与该闭合形式的边缘分布相同，"
        "直方图页面在每一帧上检验这一点。",
    },
    "home.posterior": {
        "en": r"One step back: the posterior $q(x_{t-1} \mid x_t, x_0)$",
        "zh": r"后退一步：后验分布 $q(x_{t-1} \mid x_t, x_0)$",
    },
    "home.posterior.text": {
        "en": "Given the clean data as well, the step back is Gaussian too (Bayes' rule with the "
        "step and the closed form; DDPM eqs. 6–7):",
        "zh": "若同时已知干净数据，后退一步同样服从高斯分布（由单步公式与闭合形式经贝叶斯公式得到；"
        "DDPM 公式 6–7）：",
    },
    "home.posterior.after": {
        "en": r"The reverse process learns to take this step without knowing $x_0$. β̃_t and the "
        "two weights of μ̃_t are the last two plots of the signal & noise page; the image page's "
        "Markov chain takes this step when you drag back.",
        "zh": r"反向过程要学习的就是在不知道 $x_0$ 的情况下走这一步。β̃_t 与 μ̃_t 的两个权重是“信号与噪声”"
        "页面的最后两幅图；图像页面的马尔可夫链在向回拖动时走的就是这一步。",
    },
    "home.questions": {"en": "Questions to think about", "zh": "思考题"},
    "home.questions.lead": {
        "en": "The tutorial's self-test questions, each with a short answer. Where the app can "
        "show the answer, the button opens that view, with every other setting at its default.",
        "zh": "教程中的自测问题，每题附有简短解答。能在本应用中看到答案的，按钮会打开相应视图，"
        "其余设置均恢复默认。",
    },
    "home.show": {"en": "Show me", "zh": "在应用中查看"},
    "q.group.basics": {"en": "The forward process", "zh": "前向过程"},
    "q.group.schedules": {"en": "Noise schedules", "zh": "噪声调度"},
    "q.group.closed": {"en": "The closed form", "zh": "闭合形式"},
    "q.group.further": {"en": "Thinking further", "zh": "延伸思考"},
    "q.fixed": {
        "en": "Is the forward process learned or fixed? Why?",
        "zh": "前向过程是学习得到的还是固定的？为什么？",
    },
    "q.fixed.answer": {
        "en": "Fixed. Every β_t is set by the schedule before training, so q has no parameters. "
        "Any x_t can be drawn from x_0 without a model, and the noise ε that made it is known "
        "exactly: it is the target the reverse model is trained to predict. Only the reverse "
        "process is learned.",
        "zh": "固定的。每个 β_t 都在训练前由调度确定，q 没有任何参数。无需模型即可由 x_0 得到任意 x_t，"
        "且生成它的噪声 ε 完全已知：这正是反向模型训练时要预测的目标。只有反向过程需要学习。",
    },
    "q.gaussian": {
        "en": "Why Gaussian noise? Could another distribution be used?",
        "zh": "为什么使用高斯噪声？可以用其他分布吗？",
    },
    "q.gaussian.answer": {
        "en": "Independent Gaussians add up to a Gaussian whose variance is the sum of theirs. "
        "That is what collapses t steps into the closed form q(x_t | x_0), and it makes the "
        "posterior q(x_{t−1} | x_t, x_0) Gaussian, with its mean and variance in closed form. "
        "Other corruptions exist (masking, blurring, noise on discrete tokens), but each needs "
        "its own formulas. Whatever the data, Gaussian steps lead x_t to N(0, 1): the button "
        "shows exponential data on its way there.",
        "zh": "相互独立的高斯变量之和仍是高斯变量，方差为各方差之和。正因如此，t 步可以合并为闭合形式 "
        "q(x_t | x_0)，后验 q(x_{t−1} | x_t, x_0) 也是高斯分布，均值与方差都有闭合形式。也存在其他破坏"
        "方式（掩码、模糊、离散符号上的噪声），但各自需要另推公式。无论数据是什么分布，高斯步骤都会把 "
        "x_t 带向 N(0, 1)：按钮展示了指数分布的数据走向 N(0, 1) 的过程。",
    },
    "q.markov": {
        "en": "What role does the Markov property play?",
        "zh": "马尔可夫性在前向过程中起什么作用？",
    },
    "q.markov.answer": {
        "en": "x_t depends on x_{t−1} alone, so the whole path q(x_{1:T} | x_0) is a product of "
        "single steps. That product can be collapsed into q(x_t | x_0), and Bayes' rule turns "
        "one of its steps around into the posterior that the reverse process learns. The "
        "histogram page runs the chain step by step beside the closed form: the two agree at "
        "every frame.",
        "zh": "x_t 只依赖于 x_{t−1}，因此整条路径 q(x_{1:T} | x_0) 是各单步的乘积。这个乘积可以合并为 "
        "q(x_t | x_0)，再用贝叶斯公式把其中一步反过来，就得到反向过程要学习的后验。直方图页面把逐步"
        "运行的马尔可夫链与闭合形式并排展示：二者在每一帧都一致。",
    },
    "q.linear_cosine": {
        "en": "How do the linear and cosine schedules differ?",
        "zh": "线性调度与余弦调度有什么区别？",
    },
    "q.linear_cosine.answer": {
        "en": "Linear spaces β_t evenly, and ᾱ_t falls fast: at T = 1000 it is 0.08 half way "
        "and below 0.01 from t = 673 on, so the last third of the steps shows almost pure noise. "
        "Cosine sets ᾱ_t itself to a squared cosine, so it falls evenly (ᾱ = 0.49 half way) and "
        "log-SNR declines almost linearly over most of t, with β_t tiny at first and clipped "
        "at the end.",
        "zh": "线性调度的 β_t 均匀分布，ᾱ_t 下降很快：T = 1000 时中点处已降到 0.08，从 t = 673 起低于 "
        "0.01，最后三分之一的步数几乎都是纯噪声。余弦调度直接把 ᾱ_t 设为余弦的平方，因此下降均匀（中点处 "
        "ᾱ = 0.49），log-SNR 在大部分 t 上近乎线性下降；β_t 开始时极小，末尾被裁剪。",
    },
    "q.beta_size": {
        "en": "What happens if β_t is too large or too small?",
        "zh": "如果 β_t 太大或太小会怎样？",
    },
    "q.beta_size.answer": {
        "en": "Too small, and after T steps ᾱ is far from 0: x_T still shows the data, while "
        "generation starts from pure noise, a distribution the model never saw. Too large, and "
        "the data is gone within a few steps: the remaining steps add nothing, and each step "
        "back is a jump too big to model well as one Gaussian. The button shows DDPM's β range "
        "with only T = 10 steps: the picture is still plain at the last one.",
        "zh": "太小，则 T 步之后 ᾱ 远未接近 0：x_T 仍能看出数据，而生成时却从纯噪声出发，那是模型从未"
        "见过的分布。太大，则数据几步之内就消失了：剩下的步骤毫无作用，而且每退回一步的跨度都太大，"
        "难以用一个高斯分布很好地建模。按钮展示了 DDPM 的 β 范围只走 T = 10 步的情形：最后一步的图像"
        "依然清晰可辨。",
    },
    "q.choose": {
        "en": "How would you choose a noise schedule?",
        "zh": "如何选择合适的噪声调度？",
    },
    "q.choose.answer": {
        "en": "Compare schedules by log-SNR against t/T, not by β_t. A good one falls steadily "
        "from clearly positive to clearly negative, without long flat stretches where steps are "
        "wasted, and ends at (or, with zero terminal SNR, exactly at) pure noise. Large images "
        "keep more recognisable signal at the same SNR, so they are usually given noisier "
        "schedules than small ones.",
        "zh": "比较调度时应看 log-SNR 随 t/T 的变化，而不是 β_t。好的调度让 log-SNR 从明显为正稳定地降到"
        "明显为负，没有浪费步数的长平台，并最终到达（开启“终端信噪比为零”时恰好到达）纯噪声。在相同 "
        "SNR 下，大尺寸图像保留的可辨认信号更多，因此通常为它们选用噪声更强的调度。",
    },
    "q.closed_why": {
        "en": "Why is the closed form important?",
        "zh": "为什么闭合形式很重要？",
    },
    "q.closed_why.answer": {
        "en": "Training draws a random t for every example. With the closed form, x_t costs one "
        "multiply-add whatever t is; step by step it would cost t + 1 rounds of fresh noise. It "
        "is also why the image page can show any t at once: your browser computes √ᾱ_t·x_0 + "
        "√(1−ᾱ_t)·ε while you drag.",
        "zh": "训练时每个样本都随机抽取一个 t。有了闭合形式，无论 t 多大，得到 x_t 只需一次乘加；逐步模拟"
        "则需要 t + 1 轮新的噪声。这也是图像页面能即时显示任意 t 的原因：拖动时由浏览器直接计算 "
        "√ᾱ_t·x_0 + √(1−ᾱ_t)·ε。",
    },
    "q.derive": {
        "en": "Which mathematical facts does the derivation of q(x_t | x_0) use?",
        "zh": "推导 q(x_t | x_0) 的过程中用到了哪些数学性质？",
    },
    "q.derive.answer": {
        "en": "Three: the reparameterisation x = μ + σ·ε of a Gaussian; that the sum of two "
        "independent Gaussians is Gaussian with the variances added, here α_t(1 − α_{t−1}) + "
        "(1 − α_t) = 1 − α_t·α_{t−1}; and induction over the steps, which turns the product of "
        "the α_s into ᾱ_t. The derivation above goes through them one by one.",
        "zh": "三条：高斯变量的重参数化 x = μ + σ·ε；两个独立高斯变量之和仍是高斯变量且方差相加，此处即 "
        "α_t(1 − α_{t−1}) + (1 − α_t) = 1 − α_t·α_{t−1}；以及对步数的归纳，它把各 α_s 的乘积变成 ᾱ_t。"
        "上方的推导逐条用到了它们。",
    },
    "q.direct_chain": {
        "en": "How does direct sampling differ from step-by-step simulation?",
        "zh": "直接采样与逐步模拟有什么区别？",
    },
    "q.direct_chain.answer": {
        "en": "They sample the same distribution, not the same numbers: the chain draws fresh "
        "noise t + 1 times, the closed form once, so even with the same seed the values differ. "
        "Only many samples show that they agree. The histogram page runs both on the same data "
        "and gives the two-sample KS statistic at every frame.",
        "zh": "二者采样自同一分布，但数值并不相同：马尔可夫链要抽 t + 1 次新噪声，闭合形式只抽一次，所以"
        "即使随机种子相同，结果也不同。只有大量样本才能显示二者一致。直方图页面在同一数据上同时运行两者，"
        "并给出每一帧的两样本 KS 统计量。",
    },
    "q.example": {
        "en": "The tutorial's example, x₀ = [2, −1, 0.5] at t = {t}, with the sidebar's schedule, "
        "T and seed (ᾱ_t = {alpha}). Both draws come from the same Gaussian, yet they differ: the "
        "chain drew {steps} rounds of noise, the closed form one. Change the seed for new draws.",
        "zh": "教程中的例子：x₀ = [2, −1, 0.5]，t = {t}，使用侧边栏中的调度、T 与随机种子（ᾱ_t = "
        "{alpha}）。两次抽样来自同一个高斯分布，数值却不同：马尔可夫链抽了 {steps} 轮噪声，闭合形式"
        "只抽了一次。更换随机种子可得到新的抽样。",
    },
    "q.example.none": {
        "en": "The example needs a forward process, and the sidebar's settings cannot make one: "
        "the message at the top of this page says why.",
        "zh": "这个例子需要一个前向过程，而侧边栏的设置无法构造它：本页顶部的提示说明了原因。",
    },
    "q.example.mean": {"en": "mean √ᾱ_t·x₀", "zh": "均值 √ᾱ_t·x₀"},
    "q.example.std": {"en": "std √(1−ᾱ_t)", "zh": "标准差 √(1−ᾱ_t)"},
    "q.example.closed": {"en": "closed form, one draw", "zh": "闭合形式，一次抽样"},
    "q.example.chain": {"en": "Markov chain, one draw", "zh": "马尔可夫链，一次抽样"},
    "q.non_markov": {
        "en": "What if the forward process were not Markov?",
        "zh": "如果前向过程不是马尔可夫的，会怎样？",
    },
    "q.non_markov.answer": {
        "en": "Training with the noise-prediction loss only ever uses the marginals q(x_t | x_0). "
        "DDIM (Song et al. 2021) builds non-Markovian forward processes with exactly these "
        "marginals, so a model trained for DDPM serves them unchanged. Their reverse process "
        "can skip steps and can even be deterministic, which makes sampling much faster.",
        "zh": "用噪声预测损失训练时只用到边缘分布 q(x_t | x_0)。DDIM（Song 等，2021）构造了边缘分布完全"
        "相同的非马尔可夫前向过程，因此为 DDPM 训练的模型可以原样使用。它们的反向过程可以跳步，甚至可以"
        "是确定性的，采样因此快得多。",
    },
    "q.alpha_end": {
        "en": "Why should ᾱ at the last step be close to 0? What if it is not?",
        "zh": "为什么最后一步的 ᾱ 要接近 0？如果不接近会怎样？",
    },
    "q.alpha_end.answer": {
        "en": "Generation starts from x_T ~ N(0, I). If ᾱ_T is not 0, the x_T seen in training "
        "still holds some of the data (√ᾱ_T = 0.0064 of it for linear at T = 1000, 0.068 for "
        "scaled linear), which the model learns to rely on and never finds when generating. "
        "Lin et al. (2024) trace Stable Diffusion's trouble with very dark or very bright images "
        "to this, and rescale schedules to zero terminal SNR.",
        "zh": "生成从 x_T ~ N(0, I) 开始。如果 ᾱ_T 不为 0，训练时见到的 x_T 仍含有部分数据（T = 1000 时线性"
        "调度为 √ᾱ_T = 0.0064，缩放线性调度为 0.068），模型会学着依赖它，而生成时却找不到。Lin 等"
        "（2024）发现 Stable Diffusion 难以生成很暗或很亮的图像正源于此，并把调度重新缩放到终端信噪比为零。",
    },
    "q.reverse": {
        "en": "How does the design of the forward process shape the reverse process?",
        "zh": "前向过程的设计对反向过程有什么影响？",
    },
    "q.reverse.answer": {
        "en": "The reverse process undoes the forward steps one at a time: T sets how many steps "
        "generation takes, and the schedule how hard each one is. With small β_t a step back is "
        "close to Gaussian, which is why DDPM models it as one, with its variance fixed at β_t "
        "or at the posterior's β̃_t, and the forward process fixes both. The signal & noise "
        "page draws β_t against β̃_t.",
        "zh": "反向过程逐步撤销前向的每一步：T 决定生成需要多少步，调度决定每一步有多难。β_t 较小时，退回"
        "一步的分布接近高斯，所以 DDPM 用高斯来建模它，方差固定为 β_t 或后验的 β̃_t，二者都由前向过程"
        "确定。“信号与噪声”页面画出了 β_t 与 β̃_t 的对比。",
    },
    # --- schedules page (strings below this line) ---
    # @schedules-page-strings
    "sch.title": {"en": "Noise schedules", "zh": "噪声调度"},
    "sch.lead": {
        "en": "A schedule fixes how much noise each step adds (β_t). Pick several schedules to "
        "overlay β_t, ᾱ_t and log-SNR, read the key timesteps, and download the full tables.",
        "zh": "噪声调度规定了每一步加入多少噪声（β_t）。选择多个调度即可叠加比较 β_t、ᾱ_t 与 "
        "log-SNR，查看关键时间步，并下载完整的数值表。",
    },
    "sch.select": {"en": "Schedules to compare", "zh": "要比较的调度"},
    "sch.select.placeholder": {"en": "Choose one or more schedules", "zh": "选择一个或多个调度"},
    "sch.own_t": {"en": "Own T per schedule", "zh": "各调度使用各自的 T"},
    "sch.own_t.help": {
        "en": "Give every schedule its own number of steps T (set in its parameter box). The "
        "curves are drawn against (t + 1)/T, so different T still compare fairly.",
        "zh": "为每个调度单独设置步数 T（在其参数框中设置）。曲线的横轴为 (t + 1)/T，因此不同的 T "
        "也能公平比较。",
    },
    "sch.pair": {"en": "Also show with/without zero SNR", "zh": "同时显示零终端信噪比的对照"},
    "sch.pair.help": {
        "en": "Draw each schedule a second time (dashed) with the zero-terminal-SNR setting "
        "flipped, to see what the rescaling changes.",
        "zh": "把每个调度以相反的“终端信噪比为零”设置再画一遍（虚线），观察重新缩放带来的变化。",
    },
    "sch.log_beta": {"en": "Log axis for β", "zh": "β 使用对数坐标"},
    "sch.shared": {
        "en": "From the sidebar: T = {T}, zero terminal SNR {zsnr}. The parameters below belong "
        "to this page only.",
        "zh": "来自侧边栏：T = {T}，终端信噪比为零：{zsnr}。下面的参数只作用于本页。",
    },
    "sch.shared.own_t": {
        "en": "From the sidebar: zero terminal SNR {zsnr} (each schedule has its own T here, not "
        "the sidebar's). The parameters below belong to this page only.",
        "zh": "来自侧边栏：终端信噪比为零：{zsnr}（此处每个调度使用自己的 T，而不是侧边栏的 T）。"
        "下面的参数只作用于本页。",
    },
    "sch.on": {"en": "on", "zh": "开"},
    "sch.off": {"en": "off", "zh": "关"},
    "sch.params": {"en": "{schedule}: parameters", "zh": "{schedule}：参数"},
    "sch.error.params": {
        "en": "The parameters of {schedule} do not work: {reason}. Change them in its parameter "
        "box or press “Reset parameters” there.",
        "zh": "{schedule} 的参数无效：{reason}。请在其参数框中修改，或点击其中的“恢复默认参数”。",
    },
    "sch.variant.zsnr": {"en": "zero SNR", "zh": "零信噪比"},
    "sch.variant.plain": {"en": "original", "zh": "原始"},
    "sch.empty": {
        "en": "Choose at least one schedule above, or upload your own betas.",
        "zh": "请在上方至少选择一个调度，或上传自定义的 β。",
    },
    "sch.axis.progress": {
        "en": "fraction of steps taken, (t + 1)/T",
        "zh": "已完成步数的比例 (t + 1)/T",
    },
    "sch.axis.note": {
        "en": "State t (t = 0 … T−1) has had t + 1 of the T steps, so every schedule ends at 1 "
        "whatever its T. Hover over a curve for t, (t + 1)/T and the exact value.",
        "zh": "状态 t(t = 0 … T−1)已经历 T 步中的 t + 1 步，因此无论 T 为多少，每个调度都在 1 "
        "处结束。将鼠标悬停在曲线上可查看 t、(t + 1)/T 以及精确数值。",
    },
    "sch.fig.beta": {
        "en": "Noise added per step, β<sub>t</sub>",
        "zh": "每步加入的噪声 β<sub>t</sub>",
    },
    "sch.fig.alpha": {
        "en": "Signal power kept, ᾱ<sub>t</sub>",
        "zh": "保留的信号功率 ᾱ<sub>t</sub>",
    },
    "sch.fig.logsnr": {"en": "Log signal-to-noise ratio", "zh": "对数信噪比 log-SNR"},
    "sch.fig.clipped": {"en": "▼ −∞ drawn at {floor}", "zh": "▼ −∞ 画在 {floor} 处"},
    "sch.clipped": {
        "en": "Where ᾱ_t = 0 (zero terminal SNR) the log-SNR is −∞, which no axis can show: those "
        "points are drawn at {floor} with a ▼ marker.",
        "zh": "当 ᾱ_t = 0（终端信噪比为零）时 log-SNR 为 −∞，坐标轴无法显示：这些点画在 {floor} "
        "处，并以 ▼ 标记。",
    },
    "sch.key.title": {"en": "Key timesteps", "zh": "关键时间步"},
    "sch.key.text": {
        "en": "The tutorial's table: at t = 0, T/4, T/2, 3T/4 and T−1, how much of the signal "
        "(√ᾱ_t) and of the noise (√(1−ᾱ_t)) is in x_t, and their power ratio SNR = ᾱ_t/(1−ᾱ_t).",
        "zh": "教程中的表格：在 t = 0、T/4、T/2、3T/4 和 T−1 时，x_t 中信号（√ᾱ_t）与噪声"
        "(√(1−ᾱ_t))各占多少，以及二者的功率比 SNR = ᾱ_t/(1−ᾱ_t)。",
    },
    "sch.col.schedule": {"en": "Schedule", "zh": "调度"},
    "sch.key.download": {"en": "Download this table (CSV)", "zh": "下载此表（CSV）"},
    "sch.full.title": {"en": "Full tables", "zh": "完整数值表"},
    "sch.full.text": {
        "en": "Every timestep of a schedule as CSV, in full float64 precision: t, β, α, ᾱ, ᾱ_prev, "
        "√ᾱ, √(1−ᾱ), SNR, log-SNR, the posterior variance β̃ and its log, and the two posterior "
        "mean coefficients. Column names match the code.",
        "zh": "以 CSV 格式导出调度的每一个时间步（完整 float64 精度）：t、β、α、ᾱ、ᾱ_prev、√ᾱ、"
        "√(1−ᾱ)、SNR、log-SNR、后验方差 β̃ 及其对数，以及两个后验均值系数。列名与代码一致。",
    },
    "sch.upload.title": {"en": "Your own schedule (upload)", "zh": "自定义调度（上传）"},
    "sch.upload.text": {
        "en": "Upload your betas as a CSV or text file with one column (a header line is "
        "optional) or as a 1-D NumPy .npy file, up to {limit} steps. Each β must be a finite "
        "number with 0 < β ≤ 1. A valid file is added to the comparison as “custom”.",
        "zh": "上传你的 β：单列的 CSV 或文本文件（可带一行表头），或一维的 NumPy .npy 文件，最多 "
        "{limit} 步。每个 β 都必须是满足 0 < β ≤ 1 的有限数。有效的文件将以“自定义”加入比较。",
    },
    "sch.upload.label": {
        "en": "Betas file (.csv, .txt or .npy)",
        "zh": "β 文件（.csv、.txt 或 .npy）",
    },
    "sch.upload.help": {
        "en": "One β per row, at most {limit} rows and {size} MB.",
        "zh": "每行一个 β，最多 {limit} 行、{size} MB。",
    },
    "sch.upload.ok": {
        "en": "“{name}”: {count} betas loaded and added as “custom”.",
        "zh": "“{name}”：已读入 {count} 个 β，并作为“自定义”加入比较。",
    },
    "sch.upload.at_row": {"en": "row {row}", "zh": "第 {row} 行"},
    "sch.upload.at_index": {"en": "element {index}", "zh": "第 {index} 个元素（从 0 开始）"},
    "sch.upload.too_big": {
        "en": "The file is larger than {size} MB. Upload a smaller file.",
        "zh": "文件超过 {size} MB，请上传更小的文件。",
    },
    "sch.upload.ok.rescaled": {
        "en": "“{name}”: {count} betas loaded and added as “custom”. The sidebar's zero terminal "
        "SNR is on: they are rescaled so that the last ᾱ is 0 (the table and the curves show the "
        "rescaled betas).",
        "zh": "“{name}”：已读入 {count} 个 β，并作为“自定义”加入比较。侧边栏的“零终端信噪比”已开启："
        "这些 β 已被重新缩放，使最后的 ᾱ 为 0（表格与曲线显示缩放后的 β）。",
    },
    "sch.upload.not_text": {
        "en": "This file is not UTF-8 text (nor UTF-16 with a byte-order mark, as Excel saves "
        "Unicode text). Upload a CSV/text file with one β per row, or a .npy file.",
        "zh": "该文件不是 UTF-8 文本（也不是带字节顺序标记的 UTF-16 文本，即 Excel 的“Unicode 文本”）。"
        "请上传每行一个 β 的 CSV/文本文件，或 .npy 文件。",
    },
    "sch.upload.columns": {
        "en": "Row {row} has {count} columns; the file must have exactly one column of betas.",
        "zh": "第 {row} 行有 {count} 列；文件必须只有一列 β。",
    },
    "sch.upload.decimal_comma": {
        "en": "Row {row}: “{text}” looks like a number with a decimal comma. Write betas with a "
        "decimal point (0.01, not 0,01).",
        "zh": "第 {row} 行：“{text}”看起来是用逗号作小数点的数字。请用小数点书写 β（0.01，而不是 0,01）。",
    },
    "sch.upload.not_number": {
        "en": "Row {row}: “{text}” is not a number. Fix or delete that row.",
        "zh": "第 {row} 行：“{text}”不是数字。请修改或删除该行。",
    },
    "sch.upload.too_many": {
        "en": "The file has more than {limit} betas ({count} found). Use at most {limit} steps.",
        "zh": "文件中的 β 超过 {limit} 个（发现 {count} 个）。最多使用 {limit} 步。",
    },
    "sch.upload.too_few": {
        "en": "Only {count} β found; a schedule needs at least 2 steps.",
        "zh": "只找到 {count} 个 β；调度至少需要 2 步。",
    },
    "sch.upload.empty": {
        "en": "No numbers found in the file. Put one β per row.",
        "zh": "文件中没有找到数字。请每行写一个 β。",
    },
    "sch.upload.bad_npy": {
        "en": "This is not a readable .npy file (NumPy array saved with numpy.save).",
        "zh": "这不是可读取的 .npy 文件（应为用 numpy.save 保存的 NumPy 数组）。",
    },
    "sch.upload.npy_dtype": {
        "en": "The .npy array holds {dtype} values; it must hold real numbers (float or int).",
        "zh": ".npy 数组的类型为 {dtype}；必须是实数（浮点数或整数）。",
    },
    "sch.upload.shape": {
        "en": "The .npy array has shape {shape}; it must be 1-D (one β per step).",
        "zh": ".npy 数组的形状为 {shape}；必须是一维的（每步一个 β）。",
    },
    "sch.upload.not_finite": {
        "en": "The β at {where} is {value}; every β must be a finite number.",
        "zh": "{where}的 β 为 {value}；每个 β 都必须是有限数。",
    },
    "sch.upload.out_of_range": {
        "en": "The β at {where} is {value}; every β must satisfy 0 < β ≤ 1.",
        "zh": "{where}的 β 为 {value}；每个 β 都必须满足 0 < β ≤ 1。",
    },
    "sch.upload.too_small": {
        "en": "The β at {where} is {value}, too small to change ᾱ in float64 arithmetic (ᾱ must "
        "decrease at every step). Use a larger value.",
        "zh": "{where}的 β 为 {value}，在 float64 精度下太小，无法改变 ᾱ（ᾱ 必须每步都减小）。请使用"
        "更大的值。",
    },
    "sch.upload.invalid": {
        "en": "These betas cannot be used: {reason}.",
        "zh": "这些 β 无法使用：{reason}。",
    },
    "sch.compare.title": {"en": "Which schedule when?", "zh": "调度策略对比"},
    "sch.compare.pros": {"en": "Strengths", "zh": "优点"},
    "sch.compare.cons": {"en": "Weaknesses", "zh": "缺点"},
    "sch.compare.use": {"en": "Typical use", "zh": "适用场景"},
    "sch.compare.linear.pros": {
        "en": "Simple and easy to reason about: β grows evenly (the original DDPM choice).",
        "zh": "简单直观：β 均匀增长（DDPM 原始方案）。",
    },
    "sch.compare.linear.cons": {
        "en": "ᾱ_t is nearly 0 long before the end, so the last steps are almost pure noise and "
        "teach the model little.",
        "zh": "ᾱ_t 远在结束之前就已接近 0，最后许多步几乎是纯噪声，对模型训练帮助不大。",
    },
    "sch.compare.linear.use": {"en": "General purpose; a baseline.", "zh": "通用；作为基线。"},
    "sch.compare.cosine.pros": {
        "en": "ᾱ_t falls smoothly, almost linearly in the middle: information is destroyed more "
        "evenly and fewer steps are wasted on pure noise.",
        "zh": "ᾱ_t 平滑下降，中段近乎线性：信息被更均匀地破坏，浪费在纯噪声上的步数更少。",
    },
    "sch.compare.cosine.cons": {
        "en": "A little more involved: needs the offset s and clipping, and β_t becomes very "
        "large in the last steps.",
        "zh": "稍复杂：需要偏移量 s 和裁剪，最后几步的 β_t 会变得很大。",
    },
    "sch.compare.cosine.use": {
        "en": "High-quality generation, especially of small images (Improved DDPM).",
        "zh": "高质量生成，尤其是小尺寸图像（Improved DDPM）。",
    },
    "sch.compare.quadratic.pros": {
        "en": "Very small β at the start keeps fine detail in the first steps; noise then "
        "builds up faster.",
        "zh": "开始时 β 很小，前几步保留细节；之后噪声增长更快。",
    },
    "sch.compare.quadratic.cons": {
        "en": "Its endpoints need tuning: with DDPM's values ᾱ at the last step is 7.3·10⁻⁴ "
        "(T = 1000), 18 times linear's, so more of the data is left at the end.",
        "zh": "端点需要调参：使用 DDPM 的取值时，最后一步的 ᾱ 为 7.3·10⁻⁴（T = 1000），是线性调度的 "
        "18 倍，结束时保留的数据更多。",
    },
    "sch.compare.quadratic.use": {
        "en": "Specific tasks; latent diffusion (Stable Diffusion's “scaled linear”).",
        "zh": "特定任务；潜空间扩散（Stable Diffusion 的“缩放线性”）。",
    },
    "sch.compare.sigmoid.pros": {
        "en": "Flat at both ends with a steep middle: where the noise is added is easy to control.",
        "zh": "两端平缓、中间陡峭：噪声加在哪个阶段容易控制。",
    },
    "sch.compare.sigmoid.cons": {
        "en": "Sensitive to its range and steepness.",
        "zh": "对取值范围和陡峭程度敏感。",
    },
    "sch.compare.sigmoid.use": {
        "en": "Research experiments (GeoDiff: molecule generation).",
        "zh": "研究实验（GeoDiff：分子生成）。",
    },
    "sch.compare.note": {
        "en": "After the tutorial's table (§2.3), with one correction: it says the quadratic "
        "schedule diffuses fast early on, but with the same endpoints its β_t is below "
        "linear's at every step, so it diffuses more slowly early on (ᾱ at t = 99 of 1000: "
        "0.972 against 0.897). See for yourself: compare the schedules above.",
        "zh": "依据教程中的表格（§2.3）整理，并更正一处：教程说二次调度前期扩散快，但端点相同时它的 "
        "β_t 在每一步都小于线性调度，因此前期扩散反而更慢（T = 1000 时 t = 99 处的 ᾱ：0.972 对 "
        "0.897）。可在上方亲自比较这些调度。",
    },
    # --- signal & noise page ---
    # @signal-page-strings
    "sig.title": {"en": "Signal and noise", "zh": "信号与噪声"},
    "sig.lead": {
        "en": "In x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε the data is scaled down while noise is scaled up. "
        "Move the timestep marker to read every quantity at one t; all plots share it.",
        "zh": "在 x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε 中，数据被逐步缩小，噪声被逐步放大。拖动时间步标记即可"
        "读出某一 t 处的各项数值；所有图共用同一个标记。",
    },
    "sig.shared": {
        "en": "Schedule from the sidebar: {schedule}, T = {T}.",
        "zh": "侧边栏中的调度：{schedule}，T = {T}。",
    },
    "sig.shared.zsnr": {
        "en": "Zero terminal SNR is on: ᾱ at the last step is exactly 0.",
        "zh": "已开启“终端信噪比为零”：最后一步的 ᾱ 恰好为 0。",
    },
    "sig.compare": {"en": "Compare with", "zh": "对比调度"},
    "sig.compare.none": {"en": "(none)", "zh": "（无）"},
    "sig.compare.help": {
        "en": "Overlay a second schedule (dashed) with its default parameters (the published "
        "ones; for cosine the tutorial's clipping of β to [0.0001, 0.9999]), the same T and "
        "the sidebar's zero-terminal-SNR setting.",
        "zh": "叠加第二个调度（虚线），使用其默认参数（即论文中的取值；余弦调度按教程把 β 裁剪到 "
        "[0.0001, 0.9999]）、相同的 T，以及侧边栏中“终端信噪比为零”的设置。",
    },
    "sig.compare.error": {
        "en": "{schedule} cannot be drawn: {reason}. Choose another schedule to compare.",
        "zh": "无法绘制 {schedule}：{reason}。请选择其他调度进行对比。",
    },
    "sig.defaults": {"en": "defaults", "zh": "默认参数"},
    "sig.sidebar": {"en": "sidebar", "zh": "侧边栏"},
    "sig.t": {"en": "Timestep t", "zh": "时间步 t"},
    "sig.t.help": {
        "en": "t = 0 … T−1; x_t has had t + 1 steps of noise. The dashed line on every plot marks t.",
        "zh": "t = 0 … T−1；x_t 已加入 t + 1 步噪声。每幅图中的虚线标出了 t。",
    },
    "t.clamped": {
        "en": "t was beyond the last timestep; it was moved to t = {last}.",
        "zh": "t 超出了最后一个时间步，已移到 t = {last}。",
    },
    "sig.values": {"en": "{schedule} at t = {t}", "zh": "{schedule} 在 t = {t} 处"},
    "sig.axis.t": {"en": "timestep t", "zh": "时间步 t"},
    "sig.axis.scale": {"en": "scale factor", "zh": "系数"},
    "sig.axis.snr": {"en": "SNR (log scale)", "zh": "信噪比（对数坐标）"},
    "sig.axis.variance": {"en": "variance (log scale)", "zh": "方差（对数坐标）"},
    "sig.signal": {"en": "signal √ᾱ<sub>t</sub>", "zh": "信号 √ᾱ<sub>t</sub>"},
    "sig.noise": {"en": "noise √(1−ᾱ<sub>t</sub>)", "zh": "噪声 √(1−ᾱ<sub>t</sub>)"},
    "sig.fig.scales": {
        "en": "Signal and noise in x<sub>t</sub>",
        "zh": "x<sub>t</sub> 中信号与噪声的比例",
    },
    "sig.fig.alpha": {"en": "Cumulative product ᾱ<sub>t</sub>", "zh": "累积乘积 ᾱ<sub>t</sub>"},
    "sig.fig.snr": {"en": "Signal-to-noise ratio", "zh": "信噪比 SNR"},
    "sig.fig.logsnr": {"en": "Log signal-to-noise ratio", "zh": "对数信噪比 log-SNR"},
    "sig.fig.posterior": {
        "en": "Forward β<sub>t</sub> vs posterior β̃<sub>t</sub>",
        "zh": "前向方差 β<sub>t</sub> 与后验方差 β̃<sub>t</sub>",
    },
    "sig.fig.posterior_mean": {
        "en": "Posterior mean weights",
        "zh": "后验均值 μ̃<sub>t</sub> 的权重",
    },
    "sig.weight.x0": {"en": "c₁, weight of x<sub>0</sub>", "zh": "c₁：x<sub>0</sub> 的权重"},
    "sig.weight.xt": {"en": "c₂, weight of x<sub>t</sub>", "zh": "c₂：x<sub>t</sub> 的权重"},
    "sig.axis.weight": {"en": "weight", "zh": "权重"},
    "sig.text.scales": {
        "en": "The signal scale falls from 1 to 0 while the noise scale rises from 0 to 1; their "
        "squares always add up to 1, so x_t keeps unit variance when x_0 has it.",
        "zh": "信号系数从 1 降到 0，噪声系数从 0 升到 1；二者的平方和恒为 1，因此当 x_0 方差为 1 时，"
        "x_t 的方差也保持为 1。",
    },
    "sig.text.alpha": {
        "en": "The share of the signal's power left in x_t: the product of all 1 − β_s so far.",
        "zh": "x_t 中剩余的信号功率占比：到目前为止所有 1 − β_s 的乘积。",
    },
    "sig.text.snr": {
        "en": "Signal power over noise power. It spans many orders of magnitude, hence the log "
        "axis.",
        "zh": "信号功率与噪声功率之比。它跨越许多个数量级，因此使用对数坐标。",
    },
    "sig.text.logsnr": {
        "en": "The natural log of the SNR; a good schedule lets it fall steadily, without long "
        "flat stretches.",
        "zh": "SNR 的自然对数；好的调度会让它稳定下降，而不是长时间停滞。",
    },
    "sig.text.posterior": {
        "en": r"The variance of $q(x_{t-1} \mid x_t, x_0),$ the step the reverse process must "
        "learn. It is below β_t, and close to it once t is large.",
        "zh": r"$q(x_{t-1} \mid x_t, x_0)$ 的方差，即反向过程要学习的那一步。它小于 β_t，t 较大时与 "
        "β_t 很接近。",
    },
    "sig.text.posterior_mean": {
        "en": r"The mean of $q(x_{t-1} \mid x_t, x_0)$ weighs the clean data against the "
        "current state. At t = 0 it is x_0 itself (c₁ = 1). As t grows, x_0's weight falls "
        "towards 0, and x_t's rises to nearly √α_t = √(1−β_t) and then stays close to it: late "
        "in the process the step back barely depends on x_0.",
        "zh": r"$q(x_{t-1} \mid x_t, x_0)$ 的均值在干净数据与当前状态之间加权。t = 0 时它就是 x_0 "
        "本身（c₁ = 1）。随着 t 增大，x_0 的权重降向 0，x_t 的权重升到接近 √α_t = √(1−β_t) "
        "后便紧随其变化：过程后期，退回一步几乎与 x_0 无关。",
    },
    "sig.note.snr_zero": {
        "en": "SNR = 0 not shown (log axis)",
        "zh": "SNR = 0 的点未画出（对数坐标）",
    },
    "sig.note.clipped": {"en": "▼ −∞ drawn at {floor}", "zh": "▼ −∞ 画在 {floor} 处"},
    "sig.note.posterior_zero": {
        "en": "β̃<sub>0</sub> = 0 not shown (log axis)",
        "zh": "β̃<sub>0</sub> = 0 未画出（对数坐标）",
    },
    "sig.caption.snr_zero": {
        "en": "SNR = 0 where ᾱ_t = 0 (the last step with zero terminal SNR, or every step "
        "after ᾱ_t has underflowed to 0 in a long schedule with large β), which a log axis "
        "cannot show: those points are left out of the SNR plot.",
        "zh": "当 ᾱ_t = 0 时 SNR = 0（开启“终端信噪比为零”时的最后一步，或在 β 很大的长调度中 ᾱ_t "
        "已下溢为 0 之后的每一步），对数坐标无法显示：SNR 图中略去了这些点。",
    },
    "sig.caption.clipped": {
        "en": "log-SNR = −∞ where ᾱ_t = 0; it is drawn at {floor} with a ▼ marker.",
        "zh": "当 ᾱ_t = 0 时 log-SNR = −∞；该点画在 {floor} 处，并以 ▼ 标记。",
    },
    "sig.caption.posterior": {
        "en": "β̃_0 = 0 because the state before t = 0 is the clean x_0 itself, known exactly; a "
        "log axis cannot show 0, so t = 0 is left out of this plot.",
        "zh": "β̃_0 = 0，因为 t = 0 之前的状态就是干净的 x_0 本身，已完全确定；对数坐标无法显示 0，"
        "因此该图略去了 t = 0。",
    },
    # --- image noising page ---
    # @image-page-strings
    "img.title": {"en": "Image noising", "zh": "图像加噪"},
    "img.lead": {
        "en": "Drag the slider above the picture: every frame x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε is "
        "computed in your browser, so the picture follows your finger without waiting for the server.",
        "zh": "拖动图片上方的滑块：每一帧 x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε 都在你的浏览器中计算，"
        "画面随手指即时变化，无需等待服务器。",
    },
    "img.sample": {"en": "Sample image", "zh": "示例图片"},
    # the pictures in assets/, by file name (assets/README.md says what each shows)
    "img.sample.colour_shapes": {"en": "Colour shapes", "zh": "彩色图形"},
    "img.sample.ddpm_checker": {"en": "Checkerboard and letters", "zh": "棋盘格与字母"},
    "img.sample.soft_portrait": {"en": "Soft portrait", "zh": "柔和人像"},
    "img.sample.zone_plate": {"en": "Zone plate (rings)", "zh": "波带片（同心圆环）"},
    "img.upload": {
        "en": "…or upload your own (PNG, JPEG, WebP, GIF)",
        "zh": "……或上传你自己的图片（PNG、JPEG、WebP、GIF）",
    },
    "img.upload.help": {
        "en": "Other files, such as an iPhone's HEIC photos, and files over {size} MB are refused "
        "by the upload box itself, with a red mark beside the file's name: save the picture "
        "as JPEG or PNG first.",
        "zh": "其他格式的文件（例如 iPhone 的 HEIC 照片）和超过 {size} MB 的文件会被上传框直接拒绝，"
        "文件名旁出现红色标记：请先把图片另存为 JPEG 或 PNG。",
    },
    "img.note.animated": {
        "en": "This file is an animation: only its first frame is used.",
        "zh": "该文件是动画：只使用第一帧。",
    },
    "img.note.small": {
        "en": "The picture is only {width}×{height} px. It is used as it is (never enlarged), so "
        "there is little to see dissolve.",
        "zh": "图片只有 {width}×{height} 像素。它按原样使用（不会放大），因此能看到的溶解过程很少。",
    },
    "img.note.thin": {
        "en": "At {size} px on its long side the picture is {width}×{height} px: too thin to show "
        "much. A picture closer to square shows more.",
        "zh": "长边为 {size} 像素时，图片为 {width}×{height} 像素：太细，能显示的内容很少。"
        "接近正方形的图片效果更好。",
    },
    "img.using_upload": {
        "en": "Using your file “{name}”. Remove it to go back to the samples.",
        "zh": "正在使用你的文件“{name}”。移除它即可回到示例图片。",
    },
    "img.no_samples": {
        "en": "No sample images were found; upload a picture to start.",
        "zh": "没有找到示例图片；请上传一张图片开始。",
    },
    "img.size": {"en": "Working resolution (long side, px)", "zh": "工作分辨率（长边，像素）"},
    "img.size.help": {
        "en": "The picture is scaled so that its long side has this many pixels (64 to 512). "
        "Smaller is faster on slow connections.",
        "zh": "图片会被缩放，使长边为该像素数（64 到 512）。网络较慢时选小一些更流畅。",
    },
    "img.path": {"en": "Noise path", "zh": "加噪路径"},
    "img.path.closed": {"en": "Closed form (same ε)", "zh": "闭合形式（同一 ε）"},
    "img.path.chain": {"en": "Markov chain (fresh noise)", "zh": "马尔可夫链（每步新噪声）"},
    "img.path.help": {
        "en": "Closed form: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε with one fixed ε. Markov chain: fresh noise "
        "at every step; moving forward samples q(x_t′ | x_t), moving back samples the posterior "
        "q(x_t′ | x_t, x₀). Both give exactly the same distribution of x_t.",
        "zh": "闭合形式：x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε，ε 固定不变。马尔可夫链：每一步都加入新的噪声；"
        "向前移动时从 q(x_t′ | x_t) 采样，向后移动时从后验 q(x_t′ | x_t, x₀) 采样。两者给出的 x_t 分布完全相同。",
    },
    "img.t": {
        "en": "Timestep t for the pictures and downloads below",
        "zh": "下方图片与下载所用的时间步 t",
    },
    "img.t.help": {
        "en": "t = 0 … T−1; x_t is the picture after t + 1 noising steps. Changing it also moves "
        "the scrubber above.",
        "zh": "t = 0 … T−1；x_t 是经过 t + 1 步加噪后的图片。修改它也会移动上方的滑块。",
    },
    "img.convention": {
        "en": "Indexing as everywhere in this app: slider position t = 0 … T−1 is the picture after "
        "t + 1 steps; the clean picture x₀ is shown separately.",
        "zh": "索引约定与本应用其他页面一致：滑块位置 t = 0 … T−1 表示经过 t + 1 步后的图片；"
        "干净的图片 x₀ 单独显示。",
    },
    "img.prepared": {
        "en": "Prepared for the browser in {ms} ms: {kb} KB, sent once ({width} × {height} px).",
        "zh": "已在 {ms} 毫秒内为浏览器准备好：{kb} KB，只发送一次（{width} × {height} 像素）。",
    },
    "img.at_t": {"en": "The picture at t = {t}", "zh": "t = {t} 时的图片"},
    "img.clean": {"en": "Clean image x₀", "zh": "干净图片 x₀"},
    "img.noise": {
        "en": "Noise ε (shown as ½ + ε/6, clipped at ±3)",
        "zh": "噪声 ε（显示为 ½ + ε/6，在 ±3 处截断）",
    },
    "img.frame": {"en": "x_t at t = {t}", "zh": "t = {t} 时的 x_t"},
    "img.frame.chain": {
        "en": "x_t at t = {t} (one Markov-chain draw)",
        "zh": "t = {t} 时的 x_t（马尔可夫链的一次采样）",
    },
    "img.metric.snr": {"en": "SNR", "zh": "信噪比"},
    "img.metric.psnr": {"en": "PSNR vs x₀", "zh": "相对 x₀ 的 PSNR"},
    "img.metric.clipped": {"en": "Clipped", "zh": "被截断"},
    "img.clipped_note": {
        "en": "{pct} of the values of x_t at t = {t} lie outside [−1, 1] and are clipped for display.",
        "zh": "t = {t} 时 x_t 中有 {pct} 的数值超出 [−1, 1]，显示时被截断。",
    },
    "img.strip": {"en": "The process at a glance", "zh": "过程一览"},
    "img.strip.closed": {
        "en": "Evenly spaced timesteps, all with the same noise ε.",
        "zh": "均匀间隔的时间步，全部使用同一噪声 ε。",
    },
    "img.strip.chain": {
        "en": "Evenly spaced timesteps along one Markov-chain path (fresh noise between them).",
        "zh": "沿一条马尔可夫链路径的均匀间隔时间步（两两之间加入新的噪声）。",
    },
    "img.strip.clean": {"en": "x₀ (clean)", "zh": "x₀（干净）"},
    "img.compare": {"en": "Compare with", "zh": "对比调度"},
    "img.compare.title": {
        "en": "Two schedules at the same t with the same noise ε",
        "zh": "两种调度：相同的 t，相同的噪声 ε",
    },
    "img.compare.caption": {
        "en": "{schedule}: ᾱ_t = {alphabar}, SNR = {snr}",
        "zh": "{schedule}：ᾱ_t = {alphabar}，信噪比 = {snr}",
    },
    "img.downloads": {"en": "Downloads", "zh": "下载"},
    "img.dl.frame": {"en": "Frame at t = {t} (PNG)", "zh": "t = {t} 的帧（PNG）"},
    "img.dl.strip": {"en": "Strip (PNG)", "zh": "过程条带（PNG）"},
    "img.dl.anim": {"en": "Whole process ({format})", "zh": "完整过程（{format}）"},
    "img.anim": {"en": "Animation format", "zh": "动画格式"},
    "img.anim.help": {
        "en": "{frames} frames, at most {side} px. GIF plays everywhere; WebP is smaller and keeps "
        "full colour.",
        "zh": "{frames} 帧，最大 {side} 像素。GIF 到处都能播放；WebP 更小且保留全部颜色。",
    },
    "img.error.upload": {
        "en": "The file “{name}” cannot be used: {reason} The sample image is shown instead.",
        "zh": "无法使用文件“{name}”：{reason}现改为显示示例图片。",
    },
    "img.error.upload_no_sample": {
        "en": "The file “{name}” cannot be used: {reason}",
        "zh": "无法使用文件“{name}”：{reason}",
    },
    "img.error.empty": {"en": "it is empty.", "zh": "文件为空。"},
    "img.error.too_many_bytes": {
        "en": "it is larger than 20 MB; upload a smaller image.",
        "zh": "文件超过 20 MB；请上传更小的图片。",
    },
    "img.error.bad_extension": {
        "en": "only .png, .jpg, .jpeg, .webp and .gif files are accepted.",
        "zh": "只接受 .png、.jpg、.jpeg、.webp 和 .gif 文件。",
    },
    "img.error.extension_mismatch": {
        "en": "its content is {content}, not the {extension_format} its name promises; rename "
        "it or save it again as {extension_format}.",
        "zh": "文件内容是 {content} 格式，而不是扩展名所示的 {extension_format}；请重命名，或重新保存为 "
        "{extension_format}。",
    },
    "img.error.unsupported_format": {
        "en": "this image format is not supported; save it as PNG or JPEG.",
        "zh": "不支持该图片格式；请另存为 PNG 或 JPEG。",
    },
    "img.error.not_an_image": {
        "en": "it is not a PNG, JPEG, WebP or GIF image.",
        "zh": "它不是 PNG、JPEG、WebP 或 GIF 图片。",
    },
    "img.error.too_many_pixels": {
        "en": "it has more than {limit} megapixels{size}; scale it down first.",
        "zh": "图片超过 {limit} 百万像素{size}；请先缩小。",
    },
    "img.error.size": {
        "en": " ({width} × {height} px, {mp} megapixels)",
        "zh": "（{width} × {height} 像素，{mp} 百万像素）",
    },
    "img.error.no_pixels": {"en": "the image has no pixels.", "zh": "图片没有像素。"},
    "img.error.damaged": {
        "en": "the file is damaged or incomplete; upload the complete file.",
        "zh": "文件已损坏或不完整；请上传完整的文件。",
    },
    "img.error.compute": {
        "en": "Could not compute the pictures: {reason}",
        "zh": "无法计算图片：{reason}",
    },
    "img.scr.steps": {"en": "x_t after {n} of {T} steps", "zh": "已进行 {n} / {T} 步的 x_t"},
    "img.scr.snr": {"en": "SNR", "zh": "信噪比"},
    "img.scr.psnr": {"en": "PSNR vs x₀", "zh": "相对 x₀ 的 PSNR"},
    "img.scr.clipped": {"en": "clipped to [−1, 1]", "zh": "截断到 [−1, 1]"},
    "img.scr.hist": {
        "en": "Bars: {n} sampled values of x_t. Red: the N(0, 1) density. Dashed: the display "
        "range [−1, 1].",
        "zh": "柱：x_t 的 {n} 个抽样值。红线：N(0, 1) 密度。虚线：显示范围 [−1, 1]。",
    },
    "img.scr.hint": {
        "en": "Drag the slider or use ← → Home End. Every frame is computed in your browser.",
        "zh": "拖动滑块，或使用 ← → Home End 键。每一帧都在你的浏览器中计算。",
    },
    "img.scr.mode_closed": {
        "en": "Closed form: the same ε at every t",
        "zh": "闭合形式：每个 t 使用同一 ε",
    },
    "img.scr.mode_chain": {
        "en": "Markov chain: fresh noise at every move",
        "zh": "马尔可夫链：每次移动都加入新的噪声",
    },
    "img.scr.play": {"en": "▶ Play", "zh": "▶ 播放"},
    "img.scr.pause": {"en": "⏸ Pause", "zh": "⏸ 暂停"},
    "img.scr.slider": {"en": "timestep t", "zh": "时间步 t"},
    "img.scr.canvas": {"en": "the noised picture x_t", "zh": "加噪后的图片 x_t"},
    "img.scr.decode_error": {
        "en": "The browser could not decode the picture; reload the page.",
        "zh": "浏览器无法解码该图片；请刷新页面。",
    },
    # --- histogram animation page ---
    # @histogram-page-strings
    "hist.title": {"en": "Histogram animation", "zh": "直方图动画"},
    "hist.lead": {
        "en": "Many samples of one-dimensional data are noised step by step. Each frame is the "
        "histogram of x_t at one timestep, drawn over the exact density q(x_t) and the standard "
        "normal N(0, 1) it tends to. Press ▶ to play it in your browser, or drag its slider.",
        "zh": "大量一维数据样本被逐步加噪。每一帧是某个时间步 x_t 的直方图，"
        "叠加精确密度 q(x_t) 以及它最终趋近的标准正态分布 N(0, 1)。"
        "点击 ▶ 在浏览器中播放，或拖动其滑块。",
    },
    "hist.data": {"en": "Data x₀", "zh": "数据 x₀"},
    "hist.data.gaussian": {
        "en": "Gaussian {formula}, the tutorial's data",
        "zh": "高斯分布 {formula}，教程中的数据",
    },
    "hist.data.bimodal": {"en": "Two modes: {formula}", "zh": "双峰：{formula}"},
    "hist.data.uniform": {"en": "Uniform {formula}", "zh": "均匀分布 {formula}"},
    "hist.data.exponential": {"en": "Skewed: {formula}", "zh": "偏态：{formula}"},
    "hist.data.mixture": {"en": "Your Gaussian mixture", "zh": "自定义高斯混合"},
    "hist.n": {"en": "Number of samples", "zh": "样本数"},
    "hist.n.help": {
        "en": "More samples give smoother histograms and take longer (1,000,000 takes a few "
        "seconds the first time; the result is kept for an hour).",
        "zh": "样本越多，直方图越平滑，计算也越久（1,000,000 个样本首次需要几秒；结果保留一小时）。",
    },
    "hist.sampler": {"en": "Sampler", "zh": "采样方式"},
    "hist.sampler.both": {"en": "Both", "zh": "两者对比"},
    "hist.sampler.closed": {"en": "Closed form", "zh": "闭合形式"},
    "hist.sampler.chain": {"en": "Markov chain", "zh": "马尔可夫链"},
    "hist.mix.weights": {"en": "Weights w_k", "zh": "权重 w_k"},
    "hist.mix.means": {"en": "Means μ_k", "zh": "均值 μ_k"},
    "hist.mix.stds": {"en": "Standard deviations σ_k", "zh": "标准差 σ_k"},
    "hist.mix.weights.help": {
        "en": "Comma-separated, ≥ 0, not all 0; they are scaled to sum to 1.",
        "zh": "用逗号分隔，均 ≥ 0 且不全为 0；会被缩放为总和 1。",
    },
    "hist.mix.means.help": {
        "en": "Comma-separated, one per component.",
        "zh": "用逗号分隔，每个分量一个。",
    },
    "hist.mix.stds.help": {
        "en": "Comma-separated, each > 0, one per component.",
        "zh": "用逗号分隔，每个均 > 0，每个分量一个。",
    },
    "hist.mix.caption": {
        "en": "p(x₀) = Σ_k w_k·N(μ_k, σ_k²), 1 to {most} components. Its q(x_t) is again a "
        "mixture: Σ_k w_k·N(√ᾱ_t·μ_k, ᾱ_t·σ_k² + 1 − ᾱ_t).",
        "zh": "p(x₀) = Σ_k w_k·N(μ_k, σ_k²)，1 到 {most} 个分量。其 q(x_t) 仍是混合分布："
        "Σ_k w_k·N(√ᾱ_t·μ_k, ᾱ_t·σ_k² + 1 − ᾱ_t)。",
    },
    "hist.error.fix": {
        "en": "The mixture cannot be used: {reason} Change the boxes above.",
        "zh": "该混合分布无法使用：{reason}请修改上方的输入框。",
    },
    "hist.error.empty": {"en": "“{what}” is empty.", "zh": "“{what}”为空。"},
    "hist.error.number": {
        "en": "“{text}” in “{what}” is not a number.",
        "zh": "“{what}”中的“{text}”不是数字。",
    },
    "hist.error.finite": {
        "en": "every value in “{what}” must be finite and at most {limit} in size.",
        "zh": "“{what}”中的每个值都必须是有限数，且绝对值不超过 {limit}。",
    },
    "hist.error.lengths": {
        "en": "give as many weights as means and standard deviations (now {weights}, {means} "
        "and {stds}).",
        "zh": "权重、均值与标准差的个数必须相同（当前为 {weights}、{means} 和 {stds}）。",
    },
    "hist.error.components": {
        "en": "a mixture has 1 to {most} components.",
        "zh": "混合分布需有 1 到 {most} 个分量。",
    },
    "hist.error.weights": {
        "en": "the weights must be ≥ 0 and not all 0.",
        "zh": "权重必须 ≥ 0 且不能全为 0。",
    },
    "hist.error.stds": {
        "en": "every standard deviation must be > 0.",
        "zh": "每个标准差都必须 > 0。",
    },
    "hist.error.mixture": {"en": "{reason}.", "zh": "{reason}。"},
    "hist.error.compute": {
        "en": "Could not compute the frames: {reason}. Try fewer samples or another schedule.",
        "zh": "无法计算各帧：{reason}。请减少样本数或换一个调度。",
    },
    "hist.reason.count": {
        "en": "use one of the slider's values, {low} to {high}",
        "zh": "请使用滑块上的取值，{low} 到 {high}",
    },
    "hist.reason.long": {
        "en": "at most {limit} characters",
        "zh": "最多 {limit} 个字符",
    },
    "hist.chain.capped": {
        "en": "On the CPU the Markov chain runs {m} trajectories (not {n}): it draws fresh noise "
        "at each of the T = {T} steps, so {n} of them would take far longer. A GPU runs the "
        "chain on all of them.",
        "zh": "在 CPU 上马尔可夫链只模拟 {m} 条轨迹（而不是 {n} 条）：它在 T = {T} 步中每一步都要"
        "抽取新的噪声，模拟 {n} 条会慢得多。在 GPU 上马尔可夫链使用全部样本。",
    },
    "hist.chain.capped.both": {
        "en": "On the CPU the Markov chain runs {m} trajectories (not {n}): it draws fresh noise "
        "at each of the T = {T} steps, so {n} of them would take far longer. The closed form "
        "uses all {n} samples; a GPU runs the chain on all of them.",
        "zh": "在 CPU 上马尔可夫链只模拟 {m} 条轨迹（而不是 {n} 条）：它在 T = {T} 步中每一步都要"
        "抽取新的噪声，模拟 {n} 条会慢得多。闭合形式使用全部 {n} 个样本；在 GPU 上马尔可夫链也使用全部样本。",
    },
    "hist.computing": {
        "en": "Noising {n} samples at every frame …",
        "zh": "正在对 {n} 个样本逐帧加噪……",
    },
    "hist.caption.time": {
        "en": "Frames computed in {seconds} s on {device} (kept for an hour).",
        "zh": "各帧在 {device} 上用时 {seconds} 秒算出（保留一小时）。",
    },
    "hist.t": {"en": "Frame shown (timestep t)", "zh": "显示的帧（时间步 t）"},
    "hist.t.help": {
        "en": "The animation opens at this frame and the statistics below mark it. There are "
        "{frames} frames, closer together where ᾱ_t changes fast.",
        "zh": "动画从这一帧开始，下方的统计图也标出这一帧。共有 {frames} 帧，在 ᾱ_t 变化快的地方更密。",
    },
    "hist.frame": {"en": "t = {t}  ·  ᾱ_t = {alpha}", "zh": "t = {t}  ·  ᾱ_t = {alpha}"},
    "hist.fig.title": {"en": "Data x₀ ~ {data}", "zh": "数据 x₀ ~ {data}"},
    "hist.frame.ks": {"en": "KS D = {d}", "zh": "KS 统计量 D = {d}"},
    "hist.panel.closed": {
        "en": "closed form, {n} samples",
        "zh": "闭合形式，{n} 个样本",
    },
    "hist.panel.chain": {
        "en": "Markov chain, {n} trajectories",
        "zh": "马尔可夫链，{n} 条轨迹",
    },
    "hist.snap.title": {
        "en": "Snapshots at {count} evenly spaced t",
        "zh": "{count} 个均匀间隔时间步的快照",
    },
    "hist.snap.caption": {
        "en": "The tutorial's figure of the forward process: the histogram ({panel}) at {count} "
        "evenly spaced t from 0 to T − 1, all on the same axes, with the exact q(x_t) as a "
        "line. These t are frames of the animation as well.",
        "zh": "教程中前向过程的示意图：在 0 到 T − 1 之间 {count} 个均匀间隔的 t 处的直方图"
        "（{panel}），坐标轴相同，实线为精确的 q(x_t)。这些 t 也是上方动画中的帧。",
    },
    "hist.legend.closed": {"en": "closed form", "zh": "闭合形式"},
    "hist.legend.chain": {"en": "Markov chain", "zh": "马尔可夫链"},
    "hist.legend.density": {"en": "exact q(x_t), {method}", "zh": "精确 q(x_t)，{method}"},
    "hist.legend.normal": {"en": "N(0, 1)", "zh": "N(0, 1)"},
    "hist.density.analytic": {"en": "analytic", "zh": "解析解"},
    "hist.density.numeric": {"en": "numeric convolution", "zh": "数值卷积"},
    "hist.caption.density": {
        "en": "Bars: histograms of the samples (area 1). Line: the exact density q(x_t) "
        "({method}): the data scaled by √ᾱ_t, convolved with N(0, 1 − ᾱ_t). Dashed: N(0, 1).",
        "zh": "柱：样本的直方图（面积为 1）。实线：精确密度 q(x_t)（{method}），"
        "即按 √ᾱ_t 缩放的数据与 N(0, 1 − ᾱ_t) 的卷积。虚线：N(0, 1)。",
    },
    "hist.caption.ks": {
        "en": "Two-sample Kolmogorov–Smirnov statistic D between the chain and {n} closed-form "
        "samples at this frame: {d} (critical value at the 0.1% level: {critical}). Frames "
        "above it: {above} of {frames}. Both samplers draw from the same q(x_t).",
        "zh": "本帧马尔可夫链与 {n} 个闭合形式样本之间的双样本 Kolmogorov–Smirnov 统计量 D：{d}"
        "（0.1% 显著性水平的临界值：{critical}）。超过临界值的帧：{above} / {frames}。"
        "两种采样方式来自同一分布 q(x_t)。",
    },
    "hist.axis.x": {"en": "x_t", "zh": "x_t"},
    "hist.axis.density": {"en": "density", "zh": "概率密度"},
    "hist.axis.t": {"en": "timestep t", "zh": "时间步 t"},
    # ❚❚ rather than ⏸, which browsers draw as a colour emoji beside a plain ▶
    "hist.play": {"en": "▶ Play", "zh": "▶ 播放"},
    "hist.pause": {"en": "❚❚ Pause", "zh": "❚❚ 暂停"},
    "hist.stats.mean": {"en": "mean of x_t", "zh": "x_t 的均值"},
    "hist.stats.std": {"en": "standard deviation of x_t", "zh": "x_t 的标准差"},
    "hist.stats.kl": {"en": "KL(q(x_t) ‖ N(0, 1)), nats", "zh": "KL(q(x_t) ‖ N(0, 1))，奈特"},
    "hist.stats.theory": {"en": "exact", "zh": "精确值"},
    "hist.stats.binned": {"en": " (binned)", "zh": "（分箱估计）"},
    "hist.caption.stats": {
        "en": "Orange lines: E[x_t] = √ᾱ_t·E[x₀], Std[x_t] = √(ᾱ_t·Var[x₀] + 1 − ᾱ_t) and the KL "
        "divergence of the exact q(x_t). Markers: the samples, blue circles the closed form's, "
        "green diamonds the Markov chain's (for the KL a histogram estimate, which levels off "
        "near (bins − 1)/(2n) once q(x_t) is close to N(0, 1)). Grey dotted: N(0, 1)'s mean 0 "
        "and standard deviation 1.",
        "zh": "橙色实线：E[x_t] = √ᾱ_t·E[x₀]、Std[x_t] = √(ᾱ_t·Var[x₀] + 1 − ᾱ_t) 以及精确 "
        "q(x_t) 的 KL 散度。标记：样本的值，蓝色圆点为闭合形式，绿色菱形为马尔可夫链（KL 为直方图"
        "估计，当 q(x_t) 接近 N(0, 1) 时会停留在 (箱数 − 1)/(2n) 附近）。灰色点线：N(0, 1) 的"
        "均值 0 与标准差 1。",
    },
    "hist.gif": {"en": "Download the animation as GIF", "zh": "下载动画 GIF"},
    "hist.gif.help": {
        "en": "An 800-pixel-wide looping GIF of all frames for slides; made when you press.",
        "zh": "用于幻灯片的 800 像素宽循环 GIF，包含所有帧；点击时生成。",
    },
}


def translate(key: str, lang: str, /, **fields: object) -> str:
    """The string ``key`` in ``lang`` (falls back to English), formatted with ``fields``.

    An unknown key raises ``KeyError``: a missing string is a bug, not something to hide.
    """
    entry = CATALOG[key]
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**fields) if fields else text


def format_fields(text: str) -> set[str]:
    """The ``str.format`` field names used in ``text``."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
