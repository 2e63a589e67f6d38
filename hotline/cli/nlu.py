"""`hotline nlu train|evaluate` and `hotline classify`: the NLU from the command line.

None of them needs the database; they read config.yml and the model directory only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.cli.common import console, err_console, exit_on_config_error, fail
from hotline.settings import PROJECT_ROOT, Settings, load_settings

app = typer.Typer(help="Train and evaluate the Chinese NLU.", no_args_is_help=True)
MODEL_OPTION = typer.Option(None, "--model", help="model directory (default: HOTLINE_HOME/models/nlu)")
WORKERS_OPTION = typer.Option(None, "--workers", min=1,
                              help="processes for the built-in pipeline on many lines (default: one per core)")
BATCH = 256


class Label(StrEnum):
    type = "type"
    topic = "topic"


def error_text(err: BaseException) -> str:
    """One readable line for an error: a KeyError's message without its quotes, an OSError's reason
    without Python's errno prefix."""
    if isinstance(err, KeyError) and err.args:
        return str(err.args[0])
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err)


def _settings() -> Settings:
    with exit_on_config_error():
        return load_settings()


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=err_console, transient=False)


@app.command()
def train(
    model: Path | None = MODEL_OPTION,
    from_csv: Path | None = typer.Option(None, "--from-csv", help="a city's labelled history to add (CSV with a header)"),
    text_col: str = typer.Option("text", "--text-col"),
    title_col: str | None = typer.Option(None, "--title-col"),
    type_col: str | None = typer.Option(None, "--type-col", help="complaint / consultation / suggestion"),
    topic_col: str | None = typer.Option(None, "--topic-col", help="first-level topic of the taxonomy"),
    department_col: str | None = typer.Option(None, "--department-col", help="department code of config.yml"),
    from_db: bool = typer.Option(False, "--from-db", help="add the centre's corrections from the database"),
    since: datetime | None = typer.Option(None, "--since", formats=["%Y-%m-%d"],
                                          help="with --from-db: only corrections made on or after this day"),
) -> None:
    """Train the built-in model from data/ (and --from-csv, --from-db); without --model it becomes a
    new version under HOTLINE_HOME/models and is put in use (`hotline nlu models`, `hotline nlu use`)."""
    # The model's libraries (spaCy, scikit-learn) load only for the commands that need them.
    from hotline.nlu_wiring import model_dir, nlu_settings
    from nlu.data import CsvColumns, check_history_labels, load_csv_examples, load_project_examples
    from nlu.model import NluModel
    from nlu.train import TRAIN_STEPS, train_default

    settings = _settings()
    if topic_col and department_col:
        fail("--topic-col 与 --department-col 只能给一个", 2)
    nlu = nlu_settings(settings.config)
    extra = []
    if from_csv is not None:
        if not (type_col or topic_col or department_col):
            fail("--from-csv 至少需要一个标注列：--type-col、--topic-col 或 --department-col", 2)
        codes = [d.code for d in nlu.departments]
        data_dir = PROJECT_ROOT / nlu.pipeline.data_dir
        topics = {d.topic for d in nlu.departments} | {e.topic for e in load_project_examples(data_dir) if e.topic}
        try:
            extra = load_csv_examples(from_csv, CsvColumns(text_col, title_col, type_col, topic_col, department_col))
            warnings = check_history_labels(extra, codes, topics)
        except (OSError, KeyError, ValueError) as err:
            fail(f"{from_csv}: " + error_text(err) if isinstance(err, OSError) else error_text(err), 2)
        for warning in warnings:
            err_console.print(f"[yellow]警告：[/yellow]{from_csv.name}：{warning}", highlight=False, soft_wrap=True)
        err_console.print(f"{from_csv.name}：已加入 {len(extra)} 条标注留言")
    if since is not None and not from_db:
        fail("--since 须与 --from-db 一起使用", 2)
    if from_db:
        from hotline.bootstrap import bootstrap
        from hotline.learning import as_examples, corrections

        moment = since.replace(tzinfo=ZoneInfo(settings.config.city.timezone)) if since else None
        found = corrections(bootstrap(settings).engine, moment)
        extra = [*extra, *as_examples(found)]
        err_console.print(f"数据库中的纠正：{len(found)} 条，已加入训练")
    target = model_dir(settings, model)
    try:
        with _progress() as progress:
            task = progress.add_task("训练中", total=TRAIN_STEPS)
            trained = train_default(nlu, PROJECT_ROOT, extra,
                                    step=lambda text, n: progress.update(task, description=text, advance=n))
    except ValueError as err:  # e.g. a label column whose values name one class only
        fail(str(err), 2)
    if model is None:
        from hotline.nlu_wiring import registry

        models = registry(settings)
        if not NluModel.exists(models.initial_dir):
            trained.save(models.initial_dir)  # the first model is the "initial" version
            target, version = models.initial_dir, "initial"
        else:
            source = "--from-db" if from_db else (f"--from-csv {from_csv.name}" if from_csv else "project data")
            version = models.add(trained, source)
            target = models.directory(version)
        models.use(version)
        console.print(f"模型已保存到 {target}（{trained.meta['examples']} 条留言）；在用版本 {version}")
        return
    trained.save(target)
    assert NluModel.exists(target)
    console.print(f"模型已保存到 {target}（{trained.meta['examples']} 条留言）")


@app.command()
def models(output: str = typer.Option("text", "--format", help="text or json")) -> None:
    """The model versions kept under HOTLINE_HOME/models, the one in use marked."""
    from hotline.nlu_wiring import registry

    found = registry(_settings()).list()
    if output == "json":
        print(json.dumps([{"version": v.id, "current": v.current, "trained_at": v.trained_at, "source": v.source,
                           "figures": v.figures} for v in found], ensure_ascii=False))
        return
    if not found:
        console.print("还没有训练过模型：hotline nlu train")
        return
    table = Table("版本", "在用", "训练时间", "来源", "指标")
    for v in found:
        table.add_row(v.id, "✓" if v.current else "", v.trained_at, v.source,
                      ", ".join(f"{k}={val:.3f}" if isinstance(val, float) else f"{k}={val}" for k, val in v.figures.items()))
    console.print(table)


@app.command()
def use(version: str = typer.Argument(..., help="a version from `hotline nlu models`")) -> None:
    """Put a kept model version in use (roll back or forward); running processes pick it up within seconds."""
    from hotline.nlu_wiring import registry

    try:
        registry(_settings()).use(version)
    except KeyError as err:
        fail(error_text(err), 2)
    console.print(f"已启用模型版本 {version}")


def _classifier(settings: Settings, model: Path | None, workers: int | None = 1) -> Any:
    """The configured backend; the built-in one split over worker processes for big batches."""
    from hotline.nlu_wiring import builtin_pipeline, rasa_classifier
    from nlu.model import NluModel
    from nlu.parallel import ParallelClassifier

    if settings.config.nlu.backend == "rasa" and model is None:
        return rasa_classifier(settings)
    if model is not None and not NluModel.exists(model):
        # Only the default place is trained on first use: a mistyped path must not stand in for a city's model.
        fail(f"{model} 中没有 NLU 模型；请先训练：hotline nlu train --model {model}", 2)
    return ParallelClassifier(builtin_pipeline(settings, model), workers)


def _close(classifier: Any) -> None:
    if hasattr(classifier, "close"):
        classifier.close()


def _batches(lines: Iterator[str], size: int = BATCH) -> Iterator[list[str]]:
    while batch := list(islice(lines, size)):
        yield batch


@app.command()
def evaluate(
    csv: Path = typer.Option(..., "--csv", exists=True, dir_okay=False),
    text_col: str = typer.Option("text", "--text-col"),
    title_col: str | None = typer.Option(None, "--title-col"),
    label_col: str = typer.Option(..., "--label-col"),
    label: Label = typer.Option(..., "--label", help="what the label column holds"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    model: Path | None = MODEL_OPTION,
    workers: int | None = WORKERS_OPTION,
) -> None:
    """Per-class precision, recall and F1, macro-F1 and the confusion matrix on a labelled CSV."""
    from nlu.data import CsvColumns, canonical_type, read_csv_rows
    from nlu.evaluate import report

    settings = _settings()
    try:
        rows = list(read_csv_rows(csv, CsvColumns(text_col, title_col, label=label_col)))
    except (KeyError, ValueError) as err:
        fail(error_text(err), 2)
    try:
        gold = [(canonical_type(row[label_col]) if label is Label.type else row[label_col].strip()) or ""
                for _, row in rows]
    except ValueError as err:
        fail(f"{csv.name}，列 {label_col}：{err}", 2)
    classifier = _classifier(settings, model, workers)  # after the labels: a bad file fails before the model loads
    predicted: list[str | None] = []
    try:
        if hasattr(classifier, "start"):
            classifier.start()  # fork before the progress bar starts its thread
        with _progress() as progress:
            task = progress.add_task("分类中", total=len(rows))
            for batch in _batches(iter([text for text, _ in rows])):
                for prediction in classifier.classify_batch(batch):
                    predicted.append(prediction.type if label is Label.type else prediction.topic)
                progress.advance(task, len(batch))
    finally:
        _close(classifier)
    result = report(gold, predicted)
    if not set(gold) & set(predicted):
        err_console.print(f"[yellow]警告：[/yellow]列 {label_col} 的标注（{'、'.join(sorted(set(gold))[:5])}…）没有一个是模型"
                          f"给出的 {label.value}（{'、'.join(sorted({p for p in predicted if p})[:5])}…）："
                          f"--label {label.value} 用的是这一列吗？", highlight=False, soft_wrap=True)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    grid = Table(title=f"{csv.name}：{label.value}（n={result['n']}）")
    for column in ("类别", "精确率", "召回率", "F1", "样本数"):
        grid.add_column(column)
    for name, scores in result["classes"].items():
        grid.add_row(name, f"{scores['precision']:.3f}", f"{scores['recall']:.3f}", f"{scores['f1']:.3f}",
                     str(scores["support"]))
    console.print(grid)
    console.print(f"宏平均 F1 {result['macro_f1']:.3f}   准确率 {result['accuracy']:.3f}")
    confusion = result["confusion"]
    # Columns are numbered, not named: seven topic names side by side do not fit a terminal.
    matrix = Table(title="混淆矩阵（行：真实类别；列：预测类别，编号同行）")
    matrix.add_column("")
    for number, _ in enumerate(confusion["labels"], start=1):
        matrix.add_column(str(number), justify="right")
    numbers = {name: i for i, name in enumerate(confusion["labels"], start=1)}
    for name, row in zip(confusion["rows"], confusion["matrix"], strict=True):
        matrix.add_row(f"{numbers.get(name, '')} {name}", *map(str, row))
    console.print(matrix)
    predicted_only = [f"{numbers[name]} {name}" for name in confusion["labels"] if name not in confusion["rows"]]
    if predicted_only:
        console.print("只被预测、从未真实出现：" + "、".join(predicted_only))


def classify(
    texts: list[str] | None = typer.Argument(None, help="messages; with none, one message a line on stdin"),
    model: Path | None = MODEL_OPTION,
    workers: int | None = WORKERS_OPTION,
) -> None:
    """Classify messages: one JSON object a line (type, department, topic, confidences, entities…)."""
    settings = _settings()
    classifier = _classifier(settings, model, workers)
    lines: Iterator[str] = iter(texts) if texts else (line.rstrip("\n") for line in sys.stdin)
    out = sys.stdout
    try:
        # Someone typing at a terminal gets each answer at once; a pipe is read in batches.
        for batch in _batches(lines, 1 if not texts and sys.stdin.isatty() else BATCH):
            for prediction in classifier.classify_batch(batch):
                out.write(json.dumps(prediction.public(), ensure_ascii=False) + "\n")
            out.flush()
    finally:
        _close(classifier)
