"""Realistic demo responses, written in bulk (one SQL insert per chunk, not one submit per row).

Units differ in quality, elements and items differ, traffic follows weekdays and office hours,
some answers are N/A, some citizens comment, and a few counters show suspicious bursts (one
client, all-5 answers, seconds apart) for the integrity checks to find. A seed fixes everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
from tqdm import tqdm

from survey_app.cases.opening import open_missing
from survey_app.core import clock
from survey_app.core.formats import count as count_text
from survey_app.core.formats import number
from survey_app.core.instruments import Instrument
from survey_app.db.store import Store

CHUNK = 100_000
BURST_SIZE = 20
INSTRUMENT = "sipas-dvc"
EXTRA_COUNTERS = (("quay-2", "Quầy 2"), ("quay-3", "Quầy 3"))
ELEMENT_BIAS = {"TC": 0.15, "TT": 0.1, "CC": 0.0, "KQ": 0.05, "PA": -0.35}
POSITIVE_COMMENTS = (
    "Cán bộ hướng dẫn nhiệt tình, dễ hiểu.",
    "Thủ tục nhanh gọn, cảm ơn bộ phận một cửa.",
    "Trụ sở sạch sẽ, có chỗ ngồi chờ thoải mái.",
    "Nhận kết quả đúng hẹn, rất hài lòng.",
)
NEGATIVE_COMMENTS = (
    "Phải chờ quá lâu, nên bố trí thêm quầy vào buổi sáng.",
    "Hướng dẫn chưa rõ, tôi phải đi lại hai lần mới đủ hồ sơ.",
    "Máy lấy số thứ tự bị hỏng, không ai hướng dẫn.",
    "Kết quả trả trễ hẹn mà không có thông báo.",
    "Thái độ cán bộ chưa niềm nở.",
)
# What units answer complaints (the demo's cases), and how the answers take their time.
REPLIES = (
    "Đơn vị đã tiếp nhận phản ánh, nhắc nhở cán bộ liên quan và xin lỗi Ông/Bà vì sự chậm trễ.",
    "Đơn vị đã bố trí thêm một quầy tiếp nhận vào buổi sáng từ tuần sau. Cảm ơn Ông/Bà đã góp ý.",
    "Máy lấy số đã được sửa; cán bộ hướng dẫn có mặt tại sảnh trong giờ cao điểm.",
    "Hồ sơ của Ông/Bà đã được giải quyết; đơn vị đã kiểm điểm việc trả kết quả trễ hẹn.",
    "Đơn vị đã làm việc với cán bộ về thái độ phục vụ và sẽ theo dõi việc khắc phục.",
)
REPLY_MEDIAN_HOURS = 30.0
REPLY_SHARE = 0.8  # the rest stay open, some of them past their deadline
# Share of visits per weekday (Mon..Sun) and per hour of the working day (7..17).
WEEKDAY_WEIGHTS = np.array([1.2, 1.0, 1.0, 1.0, 1.1, 0.35, 0.0])
HOUR_WEIGHTS = np.array([0.6, 1.4, 1.6, 1.5, 0.5, 0.3, 1.0, 1.3, 1.2, 0.9, 0.3])


@dataclass(frozen=True)
class DemoSummary:
    responses: int
    answers: int
    comments: int
    bursts: int
    seconds: float
    cases: int = 0

    def __str__(self) -> str:
        return (f"Đã tạo {count_text(self.responses)} phiếu demo ({count_text(self.answers)} câu trả lời, "
                f"{count_text(self.comments)} góp ý, {self.bursts} đợt đáng ngờ, {count_text(self.cases)} phản ánh) "
                f"trong {number(self.seconds, 1)} s")


def has_responses(store: Store) -> bool:
    return bool(store.query("SELECT EXISTS (SELECT 1 FROM responses)")[0][0])


def _add_counters(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Busy units have several counters."""
    rng = np.random.default_rng(seed + 1)
    for (unit_id,) in con.execute("SELECT unit_id FROM units WHERE active ORDER BY unit_id").fetchall():
        for counter_id, name in EXTRA_COUNTERS[: rng.integers(0, 3)]:
            con.execute("INSERT INTO counters (unit_id, counter_id, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        [unit_id, counter_id, name])


def _timestamps(rng: np.random.Generator, n: int, days: int, end: datetime) -> np.ndarray:
    """Epoch seconds of n visits over the last `days` days, weighted by weekday and hour."""
    start = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    day_starts = np.array([(start + timedelta(days=d)).timestamp() for d in range(days)])
    weekday = np.array([(start + timedelta(days=d)).weekday() for d in range(days)])
    day = rng.choice(days, size=n, p=WEEKDAY_WEIGHTS[weekday] / WEEKDAY_WEIGHTS[weekday].sum())
    hour = 7 + rng.choice(len(HOUR_WEIGHTS), size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    stamps = day_starts[day] + hour * 3600 + rng.integers(0, 3600, size=n)
    return np.minimum(stamps, end.timestamp() - 1)


def _ratings(rng: np.random.Generator, instrument: Instrument, quality: np.ndarray,
             element_quality: dict[str, np.ndarray], unit_idx: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Ratings 1..5, one column per item (and the overall question last)."""
    n = len(unit_idx)
    person = rng.normal(0, 0.45, size=n)  # some people rate everything higher
    columns, item_ids = [], []
    for element in instrument.elements:
        for k, item in enumerate(element.items):
            latent = (4.25 + quality[unit_idx] + element_quality[element.id][unit_idx] + person
                      + 0.08 * (k % 3 - 1) + rng.normal(0, 0.75, size=n))
            columns.append(np.clip(np.rint(latent), 1, 5).astype(np.int8))
            item_ids.append(item.id)
    ratings = np.column_stack(columns)
    if instrument.overall is not None:
        overall = np.clip(np.rint(ratings.mean(axis=1) + rng.normal(0, 0.5, size=n)), 1, 5).astype(np.int8)
        ratings = np.column_stack([ratings, overall])
        item_ids.append(instrument.overall.id)
    return ratings, item_ids


def _frame_responses(ids: np.ndarray, stamps: np.ndarray, units: np.ndarray, counters: np.ndarray,
                     stage: np.ndarray, fields: np.ndarray, clients: np.ndarray, seconds: np.ndarray,
                     channel: np.ndarray, version: str) -> pd.DataFrame:
    return pd.DataFrame({
        "idx": ids, "ts": stamps, "unit_id": units, "counter_id": counters, "instrument_id": INSTRUMENT,
        "instrument_version": version, "channel": channel, "lang": "vi", "stage": stage,
        "service_field": fields, "client_hash": clients, "seconds_taken": seconds,
    })


class _Generator:
    """Holds the per-run world (units, their quality) and writes chunks of responses."""

    def __init__(self, store: Store, seed: int, days: int) -> None:
        self.store, self.days, self.seed = store, days, seed
        self.rng = np.random.default_rng(seed)
        self.instrument = store.instruments[INSTRUMENT]
        rows = store.query("SELECT unit_id, counter_id FROM counters WHERE active ORDER BY unit_id, counter_id")
        self.unit_ids = sorted({r[0] for r in rows})
        self.counters = {u: [r[1] for r in rows if r[0] == u] for u in self.unit_ids}
        self.quality = self.rng.normal(0, 0.3, size=len(self.unit_ids))
        self.element_quality = {e.id: self.rng.normal(ELEMENT_BIAS.get(e.id, 0), 0.3, size=len(self.unit_ids))
                                for e in self.instrument.elements}
        self.traffic = self.rng.gamma(2.0, 1.0, size=len(self.unit_ids))  # districts are busier than others
        self.end = clock.now()

    def chunk(self, con: duckdb.DuckDBPyConnection, start: int, n: int) -> tuple[int, int]:
        rng, inst = self.rng, self.instrument
        unit_idx = rng.choice(len(self.unit_ids), size=n, p=self.traffic / self.traffic.sum())
        units = np.array(self.unit_ids, dtype=object)[unit_idx]
        counters = np.array([self.counters[u][rng.integers(len(self.counters[u]))] for u in units], dtype=object)
        stamps = _timestamps(rng, n, self.days, self.end)
        stage_ids = [o.id for o in inst.stage.options] if inst.stage else [None]
        stage = rng.choice(np.array(stage_ids, dtype=object), size=n, p=[0.75, 0.25][: len(stage_ids)])
        field_ids = [f.id for f in inst.service_fields] + [None]
        fields = rng.choice(np.array(field_ids, dtype=object), size=n)
        clients = np.char.mod("%016x", rng.integers(0, 2**62, size=n)).astype(object)
        seconds = np.round(rng.lognormal(np.log(75), 0.35, size=n), 1)
        channel = rng.choice(np.array(["qr", "kiosk"], dtype=object), size=n, p=[0.85, 0.15])
        ratings, item_ids = _ratings(rng, inst, self.quality, self.element_quality, unit_idx)
        self._na(ratings, item_ids, stage)
        ids = np.arange(start, start + n)
        responses = _frame_responses(ids, stamps, units, counters, stage, fields, clients, seconds, channel,
                                     inst.version)
        comments = self._comments(ids, ratings)
        self._insert(con, responses, self._long_answers(ids, ratings, item_ids), self._choices(ids, stage),
                     comments)
        return ratings.size, len(comments)

    def _na(self, ratings: np.ndarray, item_ids: list[str], stage: np.ndarray) -> None:
        inst = self.instrument
        for element in inst.elements:
            columns = [item_ids.index(i.id) for i in element.items]
            skipped = np.array([element.id in inst.skipped_elements(s) for s in stage])
            ratings[np.ix_(skipped, columns)] = 0  # 0 marks N/A until it becomes NULL
            if element.items[0].na_allowed:  # most people never filed a complaint
                never = self.rng.random(len(stage)) < 0.6
                ratings[np.ix_(never, columns)] = 0

    @staticmethod
    def _long_answers(ids: np.ndarray, ratings: np.ndarray, item_ids: list[str]) -> pd.DataFrame:
        values = ratings.reshape(-1).astype("float32")
        values[values == 0] = np.nan
        return pd.DataFrame({
            "idx": np.repeat(ids, len(item_ids)),
            "item_id": pd.Categorical.from_codes(np.tile(np.arange(len(item_ids)), len(ids)), item_ids),
            "value": pd.array(values, dtype="Int8"),
        })

    def _choices(self, ids: np.ndarray, stage: np.ndarray) -> pd.DataFrame:
        rng, frames = self.rng, []
        for question in self.instrument.questions:
            option_ids = [o.id for o in question.options]
            asked = np.array([question.show_if is None or question.show_if.holds(s, {}) for s in stage])
            answered = asked & (rng.random(len(ids)) < (0.9 if question.section != "about" else 0.6))
            picks = 1 if question.max_choices == 1 else 3
            weights = np.linspace(1.0, 0.15, len(option_ids))
            if question.section == "perception":  # most people report no trouble (SIPAS 2024: 90 %)
                weights = np.array([0.88] + [0.12 / (len(option_ids) - 1)] * (len(option_ids) - 1))
            for round_ in range(picks):
                chosen = rng.choice(len(option_ids), size=len(ids), p=weights / weights.sum())
                keep = answered & (rng.random(len(ids)) < (1.0 if round_ == 0 else 0.5))
                frames.append(pd.DataFrame({"idx": ids[keep], "question_id": question.id,
                                            "option_id": np.array(option_ids, dtype=object)[chosen[keep]]}))
        return pd.concat(frames, ignore_index=True).drop_duplicates()

    def _comments(self, ids: np.ndarray, ratings: np.ndarray) -> pd.DataFrame:
        rng = self.rng
        mean = np.where(ratings > 0, ratings, np.nan)
        mean = np.nanmean(mean, axis=1)
        low = mean < 3.2
        wants = rng.random(len(ids)) < np.where(low, 0.35, 0.05)
        texts = np.where(low, rng.choice(np.array(NEGATIVE_COMMENTS, dtype=object), size=len(ids)),
                         rng.choice(np.array(POSITIVE_COMMENTS, dtype=object), size=len(ids)))
        return pd.DataFrame({"idx": ids[wants], "text": texts[wants]})

    def _insert(self, con: duckdb.DuckDBPyConnection, responses: pd.DataFrame, answers: pd.DataFrame,
                choices: pd.DataFrame, comments: pd.DataFrame) -> None:
        # Demo ids are md5(seed, index) as UUIDs: the same seed gives the same data.
        uid = "md5('demo-' || ? || '-' || idx)::UUID"
        con.register("demo_responses", responses)
        con.register("demo_answers", answers)
        con.register("demo_choices", choices)
        con.register("demo_comments", comments)
        con.execute(
            f"INSERT INTO responses (response_id, submitted_at, unit_id, counter_id, instrument_id,"
            f" instrument_version, channel, lang, stage, service_field, client_hash, seconds_taken, status)"
            f" SELECT {uid}, to_timestamp(ts), unit_id, counter_id, instrument_id, instrument_version, channel,"
            f" lang, stage, service_field, client_hash, seconds_taken, 'ok' FROM demo_responses", [self.seed])
        con.execute(f"INSERT INTO answers SELECT {uid}, item_id::VARCHAR, value FROM demo_answers", [self.seed])
        con.execute(f"INSERT INTO choices SELECT {uid}, question_id, option_id FROM demo_choices", [self.seed])
        con.execute(f"INSERT INTO comments SELECT {uid}, text FROM demo_comments", [self.seed])
        for name in ("demo_responses", "demo_answers", "demo_choices", "demo_comments"):
            con.unregister(name)

    def bursts(self, con: duckdb.DuckDBPyConnection, start: int, count: int) -> int:
        """A few counters where one phone sent many all-5 ratings seconds apart."""
        rng, inst, written = self.rng, self.instrument, 0
        for b in range(count):
            unit = self.unit_ids[rng.integers(len(self.unit_ids))]
            size = BURST_SIZE
            midnight = self.end.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
            t0 = midnight - rng.integers(1, self.days) * 86_400 + 9 * 3600  # a morning at the counter
            ids = np.arange(start + written, start + written + size)
            stamps = t0 + np.cumsum(rng.integers(8, 30, size=size))
            stage = np.array(["da_nhan"] * size, dtype=object)
            responses = _frame_responses(ids, stamps.astype(float), np.array([unit] * size, dtype=object),
                                         np.array([self.counters[unit][0]] * size, dtype=object), stage,
                                         np.array([None] * size, dtype=object),
                                         np.array([f"burst{self.seed:04d}{b:04d}"] * size, dtype=object),
                                         np.round(rng.uniform(6, 14, size=size), 1),
                                         np.array(["qr"] * size, dtype=object), inst.version)
            n_items = len(inst.answer_items)
            ratings = np.full((size, n_items), 5, dtype=np.int8)
            self._insert(con, responses, self._long_answers(ids, ratings, list(inst.answer_items)),
                         pd.DataFrame({"idx": [], "question_id": [], "option_id": []}),
                         pd.DataFrame({"idx": [], "text": []}))
            written += size
        return written


def _set_targets(con: duckdb.DuckDBPyConnection, seed: int, overall_id: str) -> None:
    """This year's targets for units with demo responses and none set yet: each unit's satisfied
    share so far plus a few points (some within reach, some not), as a reform office would set them."""
    year = clock.today().year
    levels = con.execute(
        "SELECT r.unit_id, 100 * avg(CASE WHEN a.value >= 4 THEN 1 ELSE 0 END) FROM responses r"
        " JOIN answers a ON a.response_id = r.response_id WHERE a.value IS NOT NULL AND a.item_id <> ?"
        " AND r.unit_id NOT IN (SELECT unit_id FROM targets WHERE year = ?) GROUP BY r.unit_id ORDER BY r.unit_id",
        [overall_id, year]).fetchall()
    rng = np.random.default_rng(seed + 2)
    rows = [[unit_id, year, float(min(100.0, round(2 * (level + rng.normal(2.0, 3.0))) / 2))]
            for unit_id, level in levels]
    if rows:
        con.executemany("INSERT INTO targets (unit_id, year, sipas, updated_at) VALUES (?, ?, ?, current_timestamp)",
                        rows)


def generate_demo(store: Store, *, responses: int, seed: int = 1, days: int = 120,
                  progress: bool = False) -> DemoSummary:
    """Add `responses` demo responses spread over the last `days` days."""
    import time

    begun = time.perf_counter()
    taken = store.query("SELECT count(*) FROM responses WHERE response_id = md5('demo-' || ? || '-0')::UUID",
                        [seed])[0][0]
    if taken:
        raise ValueError(f"đã có dữ liệu demo với seed {seed}; hãy dùng --seed khác (demo data with this seed exists)")
    store.write(lambda con: _add_counters(con, seed))
    gen = _Generator(store, seed, days)
    n_bursts = min(8, responses // 5000)
    regular = responses - n_bursts * BURST_SIZE
    answers = comments = 0
    with tqdm(total=responses, unit=" phiếu", disable=not progress, desc="demo") as bar:
        for start in range(0, regular, CHUNK):
            n = min(CHUNK, regular - start)
            a, c = store.write(lambda con, s=start, k=n: gen.chunk(con, s, k))
            answers, comments = answers + a, comments + c
            bar.update(n)
        store.write(lambda con: gen.bursts(con, regular, n_bursts))
        bar.update(n_bursts * BURST_SIZE)
    answers += n_bursts * BURST_SIZE * len(gen.instrument.answer_items)
    overall = gen.instrument.overall.id if gen.instrument.overall else ""
    store.write(lambda con: _set_targets(con, seed, overall))
    cases = store.write(lambda con: _cases(con, np.random.default_rng(seed + 2), store.instruments, gen.end))
    return DemoSummary(responses, answers, comments, n_bursts, time.perf_counter() - begun, cases)


def _cases(con: duckdb.DuckDBPyConnection, rng: np.random.Generator, instruments: dict[str, Instrument],
           end: datetime) -> int:
    """Open the cases the demo's complaints call for, then play their lives: most answered (a
    median of a day and a bit, some late), answered ones often closed, the rest still open."""
    opened = open_missing(con, instruments)
    if not opened:
        return 0
    frame = pd.DataFrame(con.execute(
        f"SELECT case_id, extract(epoch FROM opened_at) FROM cases WHERE case_id IN ({', '.join('?' * len(opened))})",
        opened).fetchall(), columns=["case_id", "opened"])
    n, now = len(frame), end.timestamp()
    replied = frame["opened"] + rng.lognormal(np.log(REPLY_MEDIAN_HOURS), 0.9, size=n) * 3600
    answered = (rng.random(n) < REPLY_SHARE) & (replied < now)
    closed_at = replied + rng.uniform(1, 4, size=n) * 86_400
    closed = answered & (closed_at < now) & (rng.random(n) < 0.7)
    frame = frame.assign(
        replied=np.where(answered, replied, np.nan), closed=np.where(closed, closed_at, np.nan),
        reply=np.where(answered, rng.choice(np.array(REPLIES, dtype=object), size=n), None),
        status=np.select([closed, answered, rng.random(n) < 0.4], ["dong", "da_tra_loi", "dang_xu_ly"], "mo"))
    con.register("demo_cases", frame)
    con.execute("UPDATE cases SET status = d.status, reply = d.reply, replied_at = to_timestamp(d.replied),"
                " closed_at = to_timestamp(d.closed) FROM demo_cases d WHERE cases.case_id = d.case_id")
    for action, column in (("case.reply", "replied"), ("case.close", "closed")):
        con.execute("INSERT INTO audit_log (logged_at, actor, action, target, detail)"
                    f" SELECT to_timestamp({column}), 'demo', ?, CAST(case_id AS VARCHAR), NULL FROM demo_cases"
                    f" WHERE {column} IS NOT NULL", [action])
    con.unregister("demo_cases")
    return n
