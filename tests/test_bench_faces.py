"""The faces and people benchmarks run and give their figures (quick sizes)."""

from __future__ import annotations

from pathlib import Path

from homegallery.bench import faces, people


def test_faces_bench_measures_looking_and_describing(face_model_dir: Path) -> None:
    report = faces.run(True, face_model_dir)
    names = [figure.name for figure in report.figures]
    assert "look for faces in a photo, 1 thread" in names
    assert "describe a face, 1 thread" in names
    assert all(figure.value > 0 for figure in report.figures)


def test_people_bench_groups_generated_identities_well() -> None:
    report = people.run(True)
    values = {figure.name: figure.value for figure in report.figures}
    assert values["purity (faces among their own)"] > 99
    assert values["completeness (in their largest person)"] > 90
    assert values["add 1,000 faces to the people of the rest"] < 2


def test_objects_bench_times_fp32_and_int8_with_their_ratio(object_model_dir: Path) -> None:
    from homegallery.bench import objects

    report = objects.run(True, object_model_dir)
    values = {figure.name: figure.value for figure in report.figures}
    assert values["look for objects in a photo, fp32, 1 thread"] > 0
    assert values["look for objects in a photo, int8, 1 thread"] > 0
    ratio = values["int8 speed-up over fp32, 1 thread"]
    fp32 = values["look for objects in a photo, fp32, 1 thread"]
    int8 = values["look for objects in a photo, int8, 1 thread"]
    assert abs(ratio - fp32 / int8) < 1e-6
