"""The corpus of the test-grade whisper model: sentences, their renderings, the held-out sets.

Everything is drawn from one seeded generator, so the same seed gives the same lists.
English numbers are written as digits (as whisper writes them); espeak-ng reads them as words.
"""

import random

EN_ROOMS = ["kitchen", "bedroom", "living room", "bathroom", "garage", "office", "hallway", "garden"]
EN_ITEMS = ["milk", "eggs", "bread", "coffee", "apples", "butter", "cheese", "rice", "tea", "sugar"]
EN_NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 25, 30, 45, 60, 90]
EN_FIXED = [
    "Hey Hark.", "Hello Hark.", "Hey Hark, what time is it?", "Hello Hark, what's the date today?",
    "Hey Hark, stop.", "Hey Hark, cancel the timer.",
    "Cancel the timer.", "How long is left on the timer?", "How much time is left?",
    "What time is it?", "What's the date today?", "What day is it today?",
    "Stop.", "Volume up.", "Volume down.", "Pause.", "Resume.", "Cancel.", "Never mind.",
    "Repeat that.", "Turn on the lights in the kitchen.", "What is the weather like tomorrow?",
    "What is the capital of France?", "How are you?", "Tell me a joke.", "Who are you?",
    "What can you do?", "Good morning.", "Good night.", "Thank you, Hark.", "What's on my notes?",
    "Read my notes.", "Clear my notes.", "Is it going to rain today?", "How far is the moon?",
    "Play some music.", "Set an alarm for 7.", "What is the temperature outside?",
]
ZH_NUMBERS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十五", "二十", "三十"]
ZH_ROOMS = ["厨房", "卧室", "客厅", "浴室", "车库", "办公室"]
ZH_ITEMS = ["牛奶", "鸡蛋", "面包", "咖啡", "苹果", "米饭"]
ZH_FIXED = [
    "你好哈克", "嘿哈克", "你好哈克现在几点", "取消计时器", "还剩多少时间", "现在几点",
    "今天几号", "今天星期几", "停止", "音量调高", "音量调低", "暂停", "继续", "明天天气怎么样",
    "你是谁", "讲个笑话", "早上好", "晚安", "谢谢", "读我的笔记", "清空我的笔记", "播放音乐",
]


def en_slot_sentences():
    """Every English slot sentence as (template id, slot values, text)."""
    out = []
    for n in EN_NUMBERS:
        unit = "minute" if n == 1 else "minutes"
        out.append(("timer_min", (n,), f"Set a timer for {n} {unit}."))
        unit = "second" if n == 1 else "seconds"
        out.append(("timer_sec", (n,), f"Set a timer for {n} {unit}."))
        out.append(("timer_n", (n,), f"Set a {n} minute timer."))
        out.append(("convert_mi", (n,), f"Convert {n} miles to kilometers."))
        out.append(("convert_kg", (n,), f"Convert {n} kilograms to pounds."))
    for r in EN_ROOMS:
        out.append(("light_on", (r,), f"Turn on the {r} light."))
        out.append(("light_off", (r,), f"Turn off the {r} light."))
    for it in EN_ITEMS:
        out.append(("note", (it,), f"Add {it} to my notes."))
        out.append(("shop", (it,), f"Add {it} to my shopping list."))
    small = [2, 3, 4, 5, 6, 7, 8, 9, 12, 15]
    for a in small:
        for b in small:
            out.append(("times", (a, b), f"What is {a} times {b}?"))
            out.append(("plus", (a, b), f"What is {a} plus {b}?"))
    return out


def zh_slot_sentences():
    out = []
    for n in ZH_NUMBERS:
        out.append(("zh_timer_min", (n,), f"设置{n}分钟的计时器"))
        out.append(("zh_timer_sec", (n,), f"设置{n}秒的计时器"))
    for r in ZH_ROOMS:
        out.append(("zh_on", (r,), f"打开{r}的灯"))
        out.append(("zh_off", (r,), f"关闭{r}的灯"))
    for it in ZH_ITEMS:
        out.append(("zh_note", (it,), f"把{it}加到我的笔记"))
    small = ZH_NUMBERS[1:9]
    for a in small:
        for b in small:
            out.append(("zh_times", (a, b), f"{a}乘以{b}等于多少"))
    return out


def build(seed):
    """Returns (train, recombined): lists of (lang, text).

    recombined holds slot sentences whose every word occurs in training but never in that
    combination (a number with another unit, a room with the other switch, a new product)."""
    rng = random.Random(seed)
    train, held = [], []
    for lang, slots, fixed in (("en", en_slot_sentences(), EN_FIXED), ("zh", zh_slot_sentences(), ZH_FIXED)):
        by_tpl = {}
        for tpl, vals, text in slots:
            by_tpl.setdefault(tpl, []).append((vals, text))
        for tpl, items in sorted(by_tpl.items()):
            rng.shuffle(items)
            # Products (a times b) are many: keep a few for training; single-slot templates
            # hold out about one in six.
            if tpl in ("times", "plus", "zh_times"):
                k_train, k_held = 14, 8
            else:
                k_held = max(1, len(items) // 6)
                k_train = len(items) - k_held
            train += [(lang, t) for _, t in items[:k_train]]
            held += [(lang, t) for _, t in items[k_train:k_train + k_held]]
        train += [(lang, t) for t in fixed]
    # A held-out sentence must use only words the training sentences use.
    import tokens
    known = set()
    for lang, t in train:
        known.update(tokens.split(lang, t))
    held = [(lang, t) for lang, t in held if set(tokens.split(lang, t)) <= known]
    return train, held


# espeak-ng voices and variants. Training uses the first lists; evaluation holds out the others.
EN_VOICES_TRAIN = ["en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan"]
EN_VOICES_HELD = ["en-gb-x-gbcwmd"]
ZH_VOICES = ["cmn-latn-pinyin"]
VARIANTS_TRAIN = ["", "m1", "m2", "m3", "m4", "m6", "f1", "f2", "f4", "klatt", "klatt2", "croak", "Andy",
                  "benjamin", "john", "linda", "max", "paul", "steph", "Alicia"]
VARIANTS_HELD = ["m7", "f3", "klatt4", "Annie", "edward", "robert"]
# Every other variant espeak-ng 1.51 ships (`espeak-ng --voices=variant`, the file names), for
# renderings made with --variants all: many more vocal tracts than VARIANTS_TRAIN, so the model
# has to hear the words rather than the voice. Left out besides the held-out ones: edward2 and
# rob (close relatives of edward and robert) and the two whispering variants (no pitch at all).
VARIANTS_ALL = VARIANTS_TRAIN + [
    "adam", "Alex", "Andrea", "antonio", "aunty", "belinda", "boris", "caleb", "david", "Demonic", "Denis",
    "Diogo", "ed", "Gene", "Gene2", "gustave", "announcer", "Henrique", "Hugo", "iven", "iven2", "iven3",
    "iven4", "Jacky", "kaukovalta", "Lee", "marcelo", "Marco", "Mario", "Michael", "michel", "miguel", "Mike",
    "Mr", "Nguyen", "pablo", "pedro", "quincy", "RicishayMax", "RicishayMax2", "RicishayMax3", "robosoft",
    "robosoft2", "robosoft3", "robosoft4", "robosoft5", "robosoft6", "robosoft7", "robosoft8", "steph2",
    "steph3", "Storm", "Tweaky", "UniRobot", "zac", "anika", "anikaRobot", "AnxiousAndy", "fast", "f5",
    "grandpa", "klatt3", "klatt5", "klatt6", "m5", "m8", "norbert", "sandro", "shelby", "travis", "victor",
    "grandma"]
SPEEDS_TRAIN = [120, 140, 160, 175, 190, 210]
SPEEDS_HELD = [130, 150, 185, 200]
SNR_TRAIN = [None, None, 30, 20, 15, 10]   # dB; None = no noise
SNR_HELD = [25, 12]
# --noisy renderings (stage 5): most clips in noise, down to 6 dB, since the misses were there
SNR_NOISY = [None, 30, 20, 15, 10, 10, 8, 6]
# What the "chatter" noise says: several espeak-ng talkers at once, none of them corpus
# sentences, so the model learns to write the loud voice and not the room behind it.
CHATTER = [
    ("en", "The morning train was late again because of the snow on the line."),
    ("en", "She said the new library opens on the corner next spring."),
    ("en", "We should paint the fence before the weather turns cold."),
    ("en", "Nobody remembered where the spare keys were kept."),
    ("en", "The football match went on for another half hour."),
    ("en", "My cousin is moving to the coast with her two dogs."),
    ("en", "There is a small market in the square every Saturday."),
    ("en", "He bought a bicycle and rode it to work all summer."),
    ("zh", "昨天下午我们去公园散步了很久"),
    ("zh", "这家饭店的面条非常好吃"),
    ("zh", "明年春天他打算去北京看朋友"),
    ("zh", "火车站离这里不太远"),
]


def extra(seed):
    """Slot sentences beyond the training list for the second stage: every other combination of
    the templates' values, except the held-out recombined ones, using only training words.

    The first stage's model learned the sentence frames and then guessed a frame's usual value
    (it heard "12 times 8" as "2 times 8"); hearing each value in many frames makes it listen
    to the value. The held-out recombined sentences stay unheard."""
    train, held = build(seed)
    import tokens
    known = set()
    for lang, t in train:
        known.update(tokens.split(lang, t))
    seen = set(train) | set(held)
    out = []
    for lang, slots in (("en", en_slot_sentences()), ("zh", zh_slot_sentences())):
        for _, _, text in slots:
            if (lang, text) not in seen and set(tokens.split(lang, text)) <= known:
                out.append((lang, text))
    return out
