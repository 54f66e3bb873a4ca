#!/usr/bin/env python3
"""Ontology batch 1 for #16 item 5 (B2B services and buyer phrasings).

Found with `matcher concepts --coverage` on the blind set's tune half and the
project's fixtures only. Edits fixtures/concepts.jsonl in place, keeping line
order (concept ids are positions) and appending new concepts at the end.
"""
import json, sys

path = sys.argv[1] if len(sys.argv) > 1 else "fixtures/concepts.jsonl"
rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
by_id = {r["id"]: r for r in rows}

import os
SKIP = set(filter(None, os.environ.get("SKIP", "").split(",")))  # for bisecting

def extend(cid, surface=(), equipment=(), jsic=(), broader=()):
    if cid in SKIP:
        return
    r = by_id[cid]
    for key, vals in (("surface", surface), ("equipment", equipment), ("jsic", jsic), ("broader", broader)):
        lst = r.setdefault(key, [])
        for v in vals:
            if v not in lst:
                lst.append(v)

def add(cid, name, kind, surface, examples, broader=(), equipment=(), jsic=()):
    assert cid not in by_id, cid
    if cid in SKIP:
        return
    r = {"id": cid, "name": name, "kind": kind, "surface": list(surface), "broader": list(broader),
         "equipment": list(equipment), "jsic": list(jsic), "examples": list(examples)}
    rows.append(r); by_id[cid] = r

# --- existing concepts: how buyers describe the work ---
extend("website_production", surface=["会社紹介ページ", "紹介ページ", "ページの刷新", "ページを作り直", "ウェブページ", "Webページ", "スマホでも見やすく",
       "スマホ対応", "スマートフォン対応", "ホームページの刷新", "サイトの刷新", "サイト改修", "ホームページ改修"])
extend("mobile_app", surface=["顧客向けアプリ", "業務用アプリ", "専用アプリ", "アプリ制作", "アプリを作"])
extend("cad_drafting", surface=["紙の図面", "3次元のデータ", "三次元のデータ", "3Dデータ化", "図面をデータ化", "データに起こし", "CADデータ化"])
extend("video_production", surface=["映像を撮", "動画を撮", "PR映像"])
extend("graphic_design", surface=["シンボルマーク", "ロゴマーク", "会社のマーク", "マークを新しく", "ロゴを新しく"])
extend("calibration", surface=["校正", "精度確認", "圧力計", "温度計", "計器の校正", "正しい値を示", "計測器の点検"], jsic=["745", "744"])
extend("cmm", surface=["寸法確認", "寸法を正確に測", "寸法を測", "測定して成績書", "検査成績書", "寸法測定代行"])
extend("material_analysis", surface=["材質の確認", "材質確認", "材質判定", "何の材料か", "材質を調べ"])
extend("reliability_testing", surface=["錆びやすさ", "さびやすさ", "耐食性評価", "耐食性試験", "腐食試験", "防錆評価", "キャス試験", "CASS試験"])
extend("seafood_processing", surface=["魚の下処理", "切り身", "骨取り", "骨を取", "三枚おろし", "フィレ加工", "鮮魚の加工", "魚をさばく"], jsic=["092"])
extend("packing_service", surface=["詰め替え", "小分け", "小分け包装", "小袋", "計量包装", "量って詰め", "袋に詰め", "充填包装", "リパック"])
extend("mechanical_assembly", surface=["組み上げ", "組み上げて", "組立と動作確認", "動作確認まで", "装置の組み上げ"])
extend("plc_control", surface=["制御の更新", "制御更新", "リレー回路", "リレー制御", "リレーで動", "PLC化", "シーケンサ更新", "制御盤更新", "古い制御"])
extend("machine_repair", surface=["設備更新", "古い設備", "機械の入れ替え", "設備の入れ替え", "機器に入れ替え", "延命"])
# not カバー (機械カバー): as a head word it made 樹脂カバー a sheet-metal enclosure
extend("turning", surface=["シャフト部品", "シャフト", "ピン加工", "細いピン", "丸棒から"])
extend("urethane_casting", surface=["型なしで", "簡易型で"])
extend("rubber_molding", surface=["シリコーン部品", "シリコン部品", "柔らかいシリコーン", "シリコーン製品", "シリコーンの部品", "ゴムの部品"])
extend("electroless_nickel", surface=["穴の中まで均一", "膜厚が均一", "均一な膜厚", "均一なめっき", "内面まで均一"])

# wear resistance: a purpose several processes serve
add("wear_resistance", "耐摩耗処理", "process",
    ["耐摩耗", "耐摩耗処理", "耐摩耗性向上", "摩耗対策", "寿命延長", "長寿命化", "摩耗部品", "耐摩耗コーティング", "耐摩耗性"],
    ["シリンダーロッドの耐摩耗性を上げたい", "摩耗部品の寿命延長をお願いしたい"],
    broader=["surface_treatment"], jsic=["246"])
for c in ("hard_chrome", "thermal_spray", "overlay_welding", "nitriding"):
    extend(c, broader=["wear_resistance"])
extend("hard_chrome", surface=["シリンダロッド", "シリンダーロッド", "ピストンロッド"])

# --- B2B services with no concept ---
add("sales_channel", "販路開拓・卸売", "service",
    ["販路開拓", "販路拡大", "販路", "卸売", "卸", "問屋", "商社機能", "代理店", "販売代理", "取次", "催事", "物産展", "百貨店催事",
     "催事出店", "展示会出展", "出品", "バイヤ紹介", "商品の売り込み", "営業代行", "販売代行", "売り場", "商談会"],
    ["地元の特産品の販路開拓を手伝ってほしい", "百貨店の物産展に出すための取次をお願いしたい"],
    jsic=["50", "51", "52", "53", "54", "55"])
add("export_trade", "輸出入・海外展開", "service",
    ["輸出", "輸入", "輸出入", "貿易", "海外展開", "海外販路", "海外進出", "越境", "通関", "海外で安く", "アメリカ向け", "米国向け", "中国向け", "ベトナム向け", "タイ向け", "欧州向け", "アジア向け",
     "台湾向け", "韓国向け", "ASEAN", "インバウンド"],
    ["タイやベトナム向けの輸出実績がある商社を探しています", "海外で安く作れる工場を紹介してほしい"],
    broader=["sales_channel"], jsic=["50", "51", "52", "53", "54", "55"])
add("retail_market", "小売・流通", "market",
    ["小売", "小売業", "小売店", "小売チェーン", "スーパ", "スーパマーケット", "百貨店", "量販店", "ドラッグストア", "コンビニ",
     "ホームセンタ", "専門店", "流通業", "流通業界"],
    ["小売業の業務を理解している会社を希望します", "スーパー向けの商品を作っています"],
    jsic=["56", "57", "58", "59", "60", "61"])
add("translation", "翻訳・通訳", "service",
    ["翻訳", "通訳", "英訳", "和訳", "技術翻訳", "多言語化", "多言語対応", "中国語", "ベトナム語", "英語化", "仕様書の翻訳",
     "マニュアル翻訳", "ローカライズ", "外国語"],
    ["製品仕様書を中国語とベトナム語に翻訳してほしい", "海外向け資料の翻訳をお願いしたい"],
    jsic=["7292", "7293"])
add("ip_patent", "特許・知的財産", "service",
    ["特許", "特許出願", "知的財産", "知財", "権利化", "弁理士", "実用新案", "意匠登録", "商標登録", "商標", "権利を取る"],
    ["開発した新技術の特許出願を支援してほしい", "新技術の権利化をお願いしたい"],
    jsic=["7212"])
add("business_consulting", "経営・事業計画支援", "service",
    ["経営コンサルティング", "経営相談", "経営支援", "事業計画", "事業計画書", "計画書づくり", "資金調達支援", "事業承継", "中小企業診断士", "経営改善"],
    ["新しい事業の計画書づくりや補助金の申請を手伝ってほしい", "事業計画の相談に乗ってくれる会社を探しています"],
    jsic=["7281", "7231"])
add("logistics_service", "物流・運送", "service",
    ["運送", "配送", "輸送", "運搬", "物流代行", "倉庫保管", "保管", "在庫保管", "配送代行", "チャーター便", "精密機器輸送",
     "精密機械輸送", "エアサス車", "低床車", "重量物運搬", "運んで", "3PL", "流通加工", "ルート配送"],
    ["揺れに弱い検査装置を振動の少ない車で運んでほしい", "倉庫保管から配送まで物流代行をお願いしたい"],
    broader=[], jsic=["44", "47", "48"])
add("machine_relocation", "機械移設・据付", "service",
    ["機械移設", "設備移設", "工場移転", "機械の引っ越し", "引っ越し", "据え付け", "据付", "据付工事", "レベル出し", "芯出し",
     "精度出し", "精度を戻", "重量物据付", "搬入据付"],
    ["工場移転にともなって機械を運んで据え付け直してほしい", "工作機械の移設と精度出しをお願いしたい"],
    broader=["machine_repair"], jsic=["90", "44"])

with open(path, "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(len(rows), "concepts")
