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
        "zh": "加噪的总步数(10 到 4000)。",
    },
    "sidebar.schedule": {"en": "Noise schedule", "zh": "噪声调度"},
    "sidebar.params": {"en": "Schedule parameters", "zh": "调度参数"},
    "sidebar.zero_snr": {"en": "Zero terminal SNR", "zh": "终端信噪比为零"},
    "sidebar.zero_snr.help": {
        "en": "Rescale the schedule so that ᾱ at the last step is exactly 0 (Lin et al. 2024).",
        "zh": "重新缩放调度,使最后一步的 ᾱ 恰好为 0(Lin 等,2024)。",
    },
    "sidebar.seed": {"en": "Random seed", "zh": "随机种子"},
    "sidebar.seed.help": {
        "en": "The same seed gives the same noise and the same pictures.",
        "zh": "相同的种子产生相同的噪声和相同的图像。",
    },
    "sidebar.device": {"en": "Computing on: {device}", "zh": "计算设备:{device}"},
    "sidebar.share": {
        "en": "The address bar holds these settings: copy it to share this exact view.",
        "zh": "地址栏保存了这些设置:复制链接即可分享完全相同的视图。",
    },
    "sidebar.reset": {"en": "Reset parameters", "zh": "恢复默认参数"},
    "param.beta_start": {"en": "β start", "zh": "起始 β"},
    "param.beta_end": {"en": "β end", "zh": "结束 β"},
    "param.s": {"en": "offset s", "zh": "偏移量 s"},
    "param.min_beta": {"en": "minimum β (clip)", "zh": "β 下限(裁剪)"},
    "param.max_beta": {"en": "maximum β (clip)", "zh": "β 上限(裁剪)"},
    "schedule.linear": {"en": "Linear", "zh": "线性"},
    "schedule.cosine": {"en": "Cosine", "zh": "余弦"},
    "schedule.quadratic": {"en": "Quadratic", "zh": "二次"},
    "schedule.scaled_linear": {
        "en": "Scaled linear (Stable Diffusion)",
        "zh": "缩放线性(Stable Diffusion)",
    },
    "schedule.sigmoid": {"en": "Sigmoid", "zh": "Sigmoid"},
    "schedule.custom": {"en": "Custom (uploaded)", "zh": "自定义(上传)"},
    # --- messages --------------------------------------------------------------------------
    "notice.url": {
        "en": "Some settings in the link were ignored: {problems}",
        "zh": "链接中的部分设置已被忽略:{problems}",
    },
    "notice.url.unknown": {"en": "unknown parameter “{key}”", "zh": "未知参数“{key}”"},
    "notice.url.bad": {
        "en": "“{key}={value}” is not valid ({reason})",
        "zh": "“{key}={value}”无效({reason})",
    },
    "notice.url.repeated": {
        "en": "“{key}” appears more than once; the first value is used",
        "zh": "“{key}”出现多次,只使用第一个值",
    },
    "error.schedule": {
        "en": "These schedule settings do not work: {reason}. Change them or press “Reset parameters”.",
        "zh": "这些调度设置无效:{reason}。请修改,或点击“恢复默认参数”。",
    },
    "error.device": {
        "en": "The requested device cannot be used ({reason}); computing on the CPU instead.",
        "zh": "无法使用所请求的设备({reason}),改为在 CPU 上计算。",
    },
    "reason.integer": {"en": "a whole number is expected", "zh": "应为整数"},
    "reason.number": {"en": "a finite number is expected", "zh": "应为有限的数"},
    "reason.range": {"en": "allowed: {low} to {high}", "zh": "允许范围:{low} 到 {high}"},
    "reason.choice": {"en": "allowed: {choices}", "zh": "可选值:{choices}"},
    "reason.bool": {"en": "use 1 or 0", "zh": "请使用 1 或 0"},
    # --- home ------------------------------------------------------------------------------
    "home.lead": {
        "en": "Diffusion models learn to undo a fixed process that slowly turns data into noise. "
        "This app lets you watch that **forward process** exactly: every step adds a little "
        "Gaussian noise, and after T steps nothing of the data is left.",
        "zh": "扩散模型学习的是逆转一个固定过程:该过程逐步把数据变成噪声。本应用让你精确地观察这个"
        "**前向过程**:每一步加入少量高斯噪声,经过 T 步后数据的信息几乎全部消失。",
    },
    "home.step": {
        "en": "One step adds noise of variance β_t:",
        "zh": "每一步加入方差为 β_t 的噪声:",
    },
    "home.closed": {
        "en": "Steps compose, so any x_t can be drawn from x_0 in one go (the closed form):",
        "zh": "多步可以合并,因此任意时刻的 x_t 都能由 x_0 一步直接采样(闭合形式):",
    },
    "home.alphabar": {
        "en": "with the cumulative product of the α_t = 1 − β_t:",
        "zh": "其中 α_t = 1 − β_t 的累积乘积为:",
    },
    "home.snr": {
        "en": "The signal-to-noise ratio falls from large to (nearly) zero:",
        "zh": "信噪比从很大逐渐降到(接近)零:",
    },
    "home.pages": {"en": "Explore", "zh": "开始探索"},
    "home.card.schedules": {
        "en": "Compare noise schedules: β_t, ᾱ_t and log-SNR side by side, with the key-timestep table.",
        "zh": "比较噪声调度:并排查看 β_t、ᾱ_t 与 log-SNR,以及关键时间步表格。",
    },
    "home.card.image": {
        "en": "Upload a picture and drag the timestep slider to watch it dissolve into noise.",
        "zh": "上传一张图片,拖动时间步滑块,观看它逐渐溶解为噪声。",
    },
    "home.card.histogram": {
        "en": "Watch a 1-D distribution flow into N(0, 1), with the exact density of q(x_t).",
        "zh": "观察一维分布如何流向 N(0, 1),并叠加 q(x_t) 的精确密度。",
    },
    "home.card.signal": {
        "en": "Signal and noise scales, ᾱ_t, SNR and the posterior variance, at any timestep.",
        "zh": "信号与噪声系数、ᾱ_t、信噪比以及后验方差,可查看任意时间步。",
    },
    "home.open": {"en": "Open", "zh": "打开"},
    "home.index": {
        "en": "Indexing: t = 0 … T−1 counts the steps taken, so x_t has had t + 1 steps of noise; "
        "the clean picture is x_0.",
        "zh": "索引约定:t = 0 … T−1 表示已进行的步数,x_t 已加入 t + 1 步噪声;干净的图像为 x_0。",
    },
    # --- schedules page (strings below this line) ---
    # @schedules-page-strings
    # --- signal & noise page ---
    # @signal-page-strings
    # --- image noising page ---
    # @image-page-strings
    # --- histogram animation page ---
    # @histogram-page-strings
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
