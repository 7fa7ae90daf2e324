"""cache.Pickled: values pickled one by one, unpickled only when asked for, kept by a process."""
import pickle

from edgelint.cache import Pickled


def test_a_value_is_unpickled_when_asked_for_and_the_mapping_pickles_as_its_blobs():
    stored = pickle.loads(pickle.dumps(Pickled.of({"a.py": ("d1", (1, 2)), "b.py": ("d2", None)})))
    assert stored._values == {} and sorted(stored) == ["a.py", "b.py"] and "a.py" in stored
    assert stored["a.py"] == ("d1", (1, 2)) and set(stored._values) == {"a.py"}
    assert stored.get("c.py") is None and len(stored) == 2


def test_respelling_updating_and_reusing_keep_what_is_known_without_unpickling_it():
    kept = pickle.loads(pickle.dumps(Pickled.of({"/p/a.py": "A", "/p/b.py": "B"})))
    assert kept["/p/a.py"] == "A"
    spelled = kept.respelled(lambda path: path.replace("/p/", ""))
    assert sorted(spelled) == ["a.py", "b.py"] and set(spelled._values) == {"a.py"}
    updated = spelled.updated({"b.py": "B2"})
    assert updated["b.py"] == "B2" and updated["a.py"] == "A" and spelled["b.py"] == "B"
    asked = []

    def value_of(key):
        asked.append(key)
        return key.upper()

    reused = Pickled.reusing(spelled, ["a.py", "b.py", "c.py"], lambda key: key != "b.py", value_of)
    assert asked == ["b.py", "c.py"]  # a.py's blob is kept as it is
    assert reused._sources["a.py"] is spelled._sources["a.py"] and set(reused._values) == {"a.py", "b.py", "c.py"}
    assert pickle.loads(pickle.dumps(reused))["b.py"] == "B.PY"
    assert Pickled.reusing(None, ["x"], lambda key: True, value_of)["x"] == "X"
